import { z } from "zod";
import { ctBool, ctInt, optionalList, optString } from "./cloudtrail-quirks.ts";

/**
 * GuardDuty findings delivered by EventBridge (`source: aws.guardduty`, `detail-type: "GuardDuty Finding"`), in the
 * API's lowerCamelCase. Only the fields eks-responder reads are declared; others are ignored.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 * Samples: examples/events/gd-11-runtime-bitcointool-b-eks-pod.json, gd-01 (a GuardDuty sample finding)
 */

const tagsSchema = optionalList(z.object({ key: z.string(), value: z.string().nullish() })).transform((tags) =>
  Object.fromEntries(tags.map((t) => [t.key, t.value ?? ""])),
);

const eksClusterDetailsSchema = z.object({
  name: z.string().min(1),
  arn: optString,
  vpcId: optString,
  tags: tagsSchema,
});

const kubernetesDetailsSchema = z.object({
  kubernetesUserDetails: z
    .object({
      username: optString,
      uid: optString,
      groups: optionalList(z.string()),
      sessionName: optionalList(z.string()),
    })
    .nullish(),
  kubernetesWorkloadDetails: z
    .object({
      name: optString,
      namespace: optString,
      type: optString,
      uid: optString,
      containers: optionalList(
        z.object({
          name: optString,
          image: optString,
          securityContext: z.object({ privileged: ctBool.nullish() }).nullish(),
        }),
      ),
    })
    .nullish(),
});

const instanceDetailsSchema = z.object({
  instanceId: z.string().min(1),
  availabilityZone: optString,
  tags: tagsSchema,
  networkInterfaces: optionalList(
    z.object({
      networkInterfaceId: z.string(),
      vpcId: optString,
      subnetId: optString,
      privateIpAddress: optString,
      publicIp: optString,
      securityGroups: optionalList(z.object({ groupId: z.string(), groupName: optString })),
    }),
  ),
});

const remoteIpSchema = z
  .object({ ipAddressV4: optString, ipAddressV6: optString, country: z.object({ countryName: optString }).nullish() })
  .nullish();

export const guardDutyFindingSchema = z.object({
  schemaVersion: optString,
  accountId: z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id"),
  region: z.string().min(1),
  id: z.string().min(1),
  arn: optString,
  type: z
    .string()
    .regex(/^[A-Za-z0-9]+:[A-Za-z0-9]+\/\S+$/, "expected a finding type such as ThreatPurpose:Resource/Name"),
  severity: z.number().min(0).max(10),
  title: z.string(),
  description: optString,
  createdAt: z.string(),
  updatedAt: z.string(),
  resource: z.object({
    resourceType: z.string().min(1),
    eksClusterDetails: eksClusterDetailsSchema.nullish(),
    kubernetesDetails: kubernetesDetailsSchema.nullish(),
    instanceDetails: instanceDetailsSchema.nullish(),
  }),
  service: z.object({
    resourceRole: optString,
    featureName: optString,
    count: ctInt.nullish(),
    additionalInfo: z.object({ sample: ctBool.nullish() }).nullish(),
    action: z
      .object({
        actionType: optString,
        networkConnectionAction: z
          .object({ remoteIpDetails: remoteIpSchema, remotePortDetails: z.object({ port: ctInt.nullish() }).nullish() })
          .nullish(),
        kubernetesApiCallAction: z.object({ remoteIpDetails: remoteIpSchema }).nullish(),
        awsApiCallAction: z.object({ remoteIpDetails: remoteIpSchema }).nullish(),
      })
      .nullish(),
    runtimeDetails: z
      .object({
        process: z.object({ name: optString, executablePath: optString, pid: ctInt.nullish() }).nullish(),
      })
      .nullish(),
  }),
});

export type GuardDutyFinding = z.infer<typeof guardDutyFindingSchema>;
