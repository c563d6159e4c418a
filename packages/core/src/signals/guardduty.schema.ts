import { REGION_MESSAGE, REGION_PATTERN } from "../aws/partitions.ts";
import { builtOnFirstUse } from "../hot-schema.ts";
import * as z from "../zod.ts";
import { ctBool, ctInt, optionalList, optString } from "./cloudtrail-quirks.ts";

/**
 * GuardDuty findings delivered by EventBridge (`source: aws.guardduty`, `detail-type: "GuardDuty Finding"`), in the
 * API's lowerCamelCase. Only the fields eks-responder reads are declared; others are ignored.
 * @see https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html
 * Samples: examples/events/gd-11-runtime-bitcointool-b-eks-pod.json, gd-01 (a GuardDuty sample finding)
 *
 * Read as others write it, not only as our fixtures do: numbers may arrive as strings, times as epoch numbers, a
 * network interface without its id, lists empty, extra fields anywhere. The identity of a finding (id, type,
 * accountId, region, severity) must be readable; anything else that is not is left out by the salvage schema
 * (signals/guardduty.ts) and reported, so the finding still raises an alert with what was read.
 */

/** A number that may be written as a string of digits ("8", "5.5"). */
const severityScore = z.pipe(
  z.transform((v: unknown) => (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v)),
  z.number().check(z.gte(0), z.lte(10)),
);

/**
 * A finding time: ISO text as the API documents it, or epoch seconds / milliseconds (numbers, as GuardDuty writes
 * `eksClusterDetails.createdAt` and runtime `startTime`), normalised to ISO text. Text is kept as written.
 * @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html (createdAt, updatedAt: String)
 */
const gdTime = z.pipe(
  z.transform((v: unknown) => {
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) return v;
    const date = new Date(v > 1e11 ? v : v * 1000);
    return Number.isNaN(date.getTime()) ? v : date.toISOString();
  }),
  z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), { message: "expected an ISO time or epoch number" })),
);

/**
 * Built on first call (builtOnFirstUse): a CloudTrail event never pays for constructing the finding schema. With
 * `salvage`, the members a finding's identity does not need are optional, so a finding whose unreadable parts were
 * left out still parses (signals/guardduty.ts).
 */
function findingSchema(salvage: boolean) {
  const required = <T extends z.ZodMiniType>(schema: T) => (salvage ? z.optional(schema) : schema);
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
        hostNetwork: z.nullish(ctBool),
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
        networkInterfaceId: optString,
        vpcId: optString,
        subnetId: optString,
        privateIpAddress: optString,
        publicIp: optString,
        securityGroups: optionalList(z.object({ groupId: z.string(), groupName: optString })),
      }),
    ),
  });

  const processSchema = z.object({ name: optString, executablePath: optString, pid: z.nullish(ctInt) });

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
    region: z.string().check(z.regex(REGION_PATTERN, REGION_MESSAGE)),
    id: z.string().check(z.minLength(1)),
    arn: optString,
    type: z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9]+:[A-Za-z0-9]+\/\S+$/, "expected a finding type such as ThreatPurpose:Resource/Name"),
      ),
    severity: severityScore,
    title: required(z.string()),
    description: optString,
    createdAt: required(gdTime),
    updatedAt: required(gdTime),
    resource: required(
      z.object({
        resourceType: required(z.string().check(z.minLength(1))),
        eksClusterDetails: z.nullish(eksClusterDetailsSchema),
        kubernetesDetails: z.nullish(kubernetesDetailsSchema),
        instanceDetails: z.nullish(instanceDetailsSchema),
      }),
    ),
    service: required(
      z.object({
        resourceRole: optString,
        featureName: optString,
        count: z.nullish(ctInt),
        // Sample findings say so as `sample: true`, or as JSON text under `value` ({"value":"{\"sample\":true}",
        // "type":"default"}, as CreateSampleFindings writes them): signals/guardduty.ts reads both.
        // @see https://docs.aws.amazon.com/guardduty/latest/ug/sample_findings.html
        additionalInfo: z.nullish(z.object({ sample: z.nullish(ctBool), value: z.nullish(z.unknown()) })),
        action: z.nullish(
          z.object({
            actionType: optString,
            networkConnectionAction: z.nullish(
              z.object({
                remoteIpDetails: remoteIpSchema,
                remotePortDetails: z.nullish(z.object({ port: z.nullish(ctInt) })),
              }),
            ),
            // What was called: the binding a Policy:Kubernetes finding is about is named here (resource,
            // resourceName, namespace) and, in newer findings, in kubernetesRoleBindingDetails.
            // @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_KubernetesApiCallAction.html
            // @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_KubernetesRoleBindingDetails.html
            kubernetesApiCallAction: z.nullish(
              z.object({
                remoteIpDetails: remoteIpSchema,
                requestUri: optString,
                verb: optString,
                resource: optString,
                resourceName: optString,
                namespace: optString,
                subresource: optString,
                statusCode: z.nullish(ctInt),
              }),
            ),
            kubernetesRoleBindingDetails: z.nullish(
              z.object({
                kind: optString,
                name: optString,
                uid: optString,
                roleRefKind: optString,
                roleRefName: optString,
              }),
            ),
            kubernetesRoleDetails: z.nullish(z.object({ kind: optString, name: optString, uid: optString })),
            awsApiCallAction: z.nullish(z.object({ remoteIpDetails: remoteIpSchema })),
          }),
        ),
        // The process is the actor; `context` names what it acted on (a target process, a file, a mount).
        // @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_RuntimeDetails.html
        // @see https://docs.aws.amazon.com/guardduty/latest/APIReference/API_RuntimeContext.html
        runtimeDetails: z.nullish(
          z.object({
            process: z.nullish(processSchema),
            context: z.nullish(
              z.object({
                targetProcess: z.nullish(processSchema),
                modifyingProcess: z.nullish(processSchema),
                threatFilePath: optString,
                filePath: optString,
                scriptPath: optString,
                mountTarget: optString,
                toolName: optString,
              }),
            ),
          }),
        ),
      }),
    ),
  });
}

export const guardDutyFindingSchema = builtOnFirstUse(() => findingSchema(false));
export const guardDutySalvageSchema = builtOnFirstUse(() => findingSchema(true));

export type GuardDutyFinding = z.infer<ReturnType<typeof guardDutySalvageSchema>>;
