import { z } from "zod";
import { DETECTORS } from "../detectors/registry.ts";
import { MODES, SEVERITIES } from "../detectors/types.ts";
import { parseCidr } from "../net/cidr.ts";

const cidr = z
  .string()
  .refine((v) => parseCidr(v) !== undefined, { message: "expected a CIDR such as 203.0.113.0/24" });
const accountId = z.string().regex(/^\d{12}$/, "expected a 12-digit AWS account id");
const mode = z.enum(MODES as [string, ...string[]]);
const severity = z.enum(SEVERITIES as [string, ...string[]]);

function detectorEntry(settings: z.ZodType) {
  return z.strictObject({
    /** auto: fix; approve: ask a human first; alert: only notify; off: ignore. Default: the detector's. */
    mode: mode.optional(),
    /** Dry-run this detector even when the global dryRun is false. */
    dryRun: z.boolean().optional(),
    /** Observe only until promoted: decisions are recorded, nothing is acted on or notified. */
    staged: z.boolean().optional(),
    settings: settings.optional(),
  });
}

const DEFAULT_EXEMPT_TAG = { key: "eks-responder:exempt", value: "true" };

export const policySchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1),
  /** Global dry-run: plan and report, change nothing. Default on; set false to let auto mode act. */
  dryRun: z.boolean().default(true),
  /** Empty lists mean every account, region, cluster. */
  scope: z
    .strictObject({
      accounts: z.array(accountId).default([]),
      regions: z
        .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, "expected an AWS region such as eu-west-1"))
        .default([]),
      clusters: z.array(z.string().min(1)).default([]),
    })
    .default({ accounts: [], regions: [], clusters: [] }),
  detectors: z
    .strictObject(Object.fromEntries(DETECTORS.map((d) => [d.id, detectorEntry(d.settings).optional()])))
    .default({}),
  exemptions: z
    .strictObject({
      /** Resources carrying one of these tags (value optional: any value) are never acted on. */
      tags: z
        .array(z.strictObject({ key: z.string().min(1), value: z.string().optional() }))
        .default([DEFAULT_EXEMPT_TAG]),
      /** Kubernetes namespaces whose workloads are never acted on. */
      namespaces: z.array(z.string().min(1)).default([]),
      /** Changes made by these principals (ARN patterns, `*` wildcard) are not acted on. */
      principals: z
        .array(z.string().startsWith("arn:", "expected an ARN pattern such as arn:aws:iam::*:role/terraform"))
        .default([]),
      accounts: z.array(accountId).default([]),
      /** Source CIDRs that are never treated as open, however wide. */
      cidrs: z.array(cidr).default([]),
    })
    .default({ tags: [DEFAULT_EXEMPT_TAG], namespaces: [], principals: [], accounts: [], cidrs: [] }),
  endpoint: z
    .strictObject({
      /** What eks:restrict-endpoint narrows a public cluster endpoint to. Empty: turn it off if private access is on. */
      allowedPublicCidrs: z.array(cidr).max(40).default([]),
    })
    .default({ allowedPublicCidrs: [] }),
  limits: z
    .strictObject({
      /** Blast radius: at most this many automatic actions per account per window; beyond it, approval is asked. */
      automaticActionsPerAccount: z.number().int().min(0).max(10_000).default(20),
      windowSeconds: z.number().int().min(60).max(86_400).default(600),
    })
    .default({ automaticActionsPerAccount: 20, windowSeconds: 600 }),
  approvals: z
    .strictObject({
      /** Who may approve: Slack user ids (buttons) and email addresses (signed links sent through SNS). */
      approvers: z
        .strictObject({
          slackUserIds: z
            .array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, "expected a Slack user id such as U0123ABCD"))
            .default([]),
          emails: z.array(z.email("expected an email address")).default([]),
        })
        .default({ slackUserIds: [], emails: [] }),
      /** How long an approval waits before it times out (and nothing is done). */
      timeoutSeconds: z
        .number()
        .int()
        .min(60)
        .max(7 * 24 * 3600)
        .default(3600),
      /** The Slack channel approval requests go to. */
      slackChannel: z.string().min(1).optional(),
    })
    .default({ approvers: { slackUserIds: [], emails: [] }, timeoutSeconds: 3600 }),
  notify: z
    .strictObject({
      routes: z
        .array(
          z.strictObject({
            name: z.string().min(1),
            minSeverity: severity.default("low"),
            detectors: z.array(z.enum(DETECTORS.map((d) => d.id) as [string, ...string[]])).optional(),
            slack: z.strictObject({ channel: z.string().min(1) }).optional(),
            sns: z
              .strictObject({ topicArn: z.string().regex(/^arn:aws[a-z-]*:sns:/, "expected an SNS topic ARN") })
              .optional(),
          }),
        )
        .default([]),
    })
    .default({ routes: [] }),
});

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;
