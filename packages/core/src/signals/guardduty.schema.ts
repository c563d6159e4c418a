import { builtOnFirstUse } from "../hot-schema.ts";
import * as z from "../zod.ts";
import { ctBool, ctInt, optionalList, optString } from "./cloudtrail-quirks.ts";

/**
 * GuardDuty findings delivered by EventBridge (`source: aws.guardduty`, `detail-type: "GuardDuty Finding"`), in the
 * API's lowerCamelCase. Only the fields eks-responder reads are declared; others are ignored.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 * Samples: examples/events/gd-11-runtime-bitcointool-b-eks-pod.json, gd-01 (a GuardDuty sample finding)
 */

/** Built on first call (builtOnFirstUse): a CloudTrail event never pays for constructing the finding schema. */
function findingSchema() {
  const tagsSchema = z.pipe(
    optionalList(z.object({ key: z.string(), value: z.nullish(z.string()) })),
    z.transform((tags) => Object.fromEntries(tags.map((t) => [t.key, t.value ?? ""]))),
  );

  const eksClusterDetailsSchema = z.object({
    name: z.string().check(z.minLength(1)),
    arn: optString,
    vpcId: optString,
    tags: tagsSchema,
  });

  const kubernetesDetailsSchema = z.object({
    kubernetesUserDetails: z.nullish(
      z.object({
        username: optString,
        uid: optString,
        groups: optionalList(z.string()),
        sessionName: optionalList(z.string()),
      }),
    ),
    kubernetesWorkloadDetails: z.nullish(
      z.object({
        name: optString,
        namespace: optString,
        type: optString,
        uid: optString,
        containers: optionalList(
          z.object({
            name: optString,
            image: optString,
            securityContext: z.nullish(z.object({ privileged: z.nullish(ctBool) })),
          }),
        ),
      }),
    ),
  });

  const instanceDetailsSchema = z.object({
    instanceId: z.string().check(z.minLength(1)),
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

  const remoteIpSchema = z.nullish(
    z.object({
      ipAddressV4: optString,
      ipAddressV6: optString,
      country: z.nullish(z.object({ countryName: optString })),
    }),
  );

  return z.object({
    schemaVersion: optString,
    accountId: z.string().check(z.regex(/^\d{12}$/, "expected a 12-digit AWS account id")),
    region: z.string().check(z.minLength(1)),
    id: z.string().check(z.minLength(1)),
    arn: optString,
    type: z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9]+:[A-Za-z0-9]+\/\S+$/, "expected a finding type such as ThreatPurpose:Resource/Name"),
      ),
    severity: z.number().check(z.gte(0), z.lte(10)),
    title: z.string(),
    description: optString,
    createdAt: z.string(),
    updatedAt: z.string(),
    resource: z.object({
      resourceType: z.string().check(z.minLength(1)),
      eksClusterDetails: z.nullish(eksClusterDetailsSchema),
      kubernetesDetails: z.nullish(kubernetesDetailsSchema),
      instanceDetails: z.nullish(instanceDetailsSchema),
    }),
    service: z.object({
      resourceRole: optString,
      featureName: optString,
      count: z.nullish(ctInt),
      additionalInfo: z.nullish(z.object({ sample: z.nullish(ctBool) })),
      action: z.nullish(
        z.object({
          actionType: optString,
          networkConnectionAction: z.nullish(
            z.object({
              remoteIpDetails: remoteIpSchema,
              remotePortDetails: z.nullish(z.object({ port: z.nullish(ctInt) })),
            }),
          ),
          kubernetesApiCallAction: z.nullish(z.object({ remoteIpDetails: remoteIpSchema })),
          awsApiCallAction: z.nullish(z.object({ remoteIpDetails: remoteIpSchema })),
        }),
      ),
      runtimeDetails: z.nullish(
        z.object({
          process: z.nullish(z.object({ name: optString, executablePath: optString, pid: z.nullish(ctInt) })),
        }),
      ),
    }),
  });
}

export const guardDutyFindingSchema = builtOnFirstUse(findingSchema);

export type GuardDutyFinding = z.infer<ReturnType<typeof guardDutyFindingSchema>>;
