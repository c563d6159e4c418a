import { ARN_PARTITION, REGION_MESSAGE, REGION_PATTERN } from "../aws/partitions.ts";
import { DETECTORS } from "../detectors/registry.ts";
import { MODES, SEVERITIES } from "../detectors/types.ts";
import { isRoleArn, ROLE_ARN_MESSAGE } from "../guardrails/own-calls.ts";
import { parseCidr } from "../net/cidr.ts";
import * as z from "../zod.ts";
import { EXEMPT_RESOURCES, type ExemptResource, type ExemptTag } from "./exempt-tags.ts";

const cidr = z
  .string()
  .check(z.refine((v) => parseCidr(v) !== undefined, { message: "expected a CIDR such as 203.0.113.0/24" }));
const accountId = z.string().check(z.regex(/^\d{12}$/, "expected a 12-digit AWS account id"));
const roleArn = z.string().check(z.refine(isRoleArn, { message: ROLE_ARN_MESSAGE }));
const mode = z.enum(MODES as [string, ...string[]]);
const severity = z.enum(SEVERITIES as [string, ...string[]]);

const region = z.string().check(z.regex(REGION_PATTERN, REGION_MESSAGE));
/** An AWS Organizations OU id (`ou-<root>-<suffix>`) or root id (`r-…`). */
const ouId = z
  .string()
  .check(
    z.regex(/^(?:ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$/, "expected an OU id such as ou-ab12-cd34ef56"),
  );
const exemptTag = z.strictObject({
  key: z.string().check(z.minLength(1)),
  value: z.optional(z.string()),
  resources: z.optional(z.array(z.enum(EXEMPT_RESOURCES)).check(z.minLength(1))),
});
const principalPattern = z
  .string()
  .check(z.startsWith("arn:", "expected an ARN pattern such as arn:aws:iam::*:role/terraform"));
const automaticActionsPerAccount = z.number().check(z.int(), z.gte(0), z.lte(10_000));
const nonEmpty = <T extends z.ZodMiniType>(item: T) => z.array(item).check(z.minLength(1));

/** The part of a detector's entry a scope may set: its mode, dry-run and staged (its settings stay global). */
const scopedDetectorEntry = z.strictObject({
  mode: z.optional(mode),
  dryRun: z.optional(z.boolean()),
  staged: z.optional(z.boolean()),
});

/**
 * One scope: settings for some accounts, OUs and regions, laid over the global ones in list order (policy/scopes.ts).
 * A list left out matches every account, OU or region; a list given must not be empty.
 */
const scopeSchema = z.strictObject({
  /** Named in the decision's reasons ("mode approve set by scope prod-accounts"). */
  name: z.string().check(z.minLength(1), z.maxLength(64)),
  accounts: z.optional(nonEmpty(accountId)),
  /** OUs by id; an account's OUs come from `organization.accountOus`. */
  ous: z.optional(nonEmpty(ouId)),
  regions: z.optional(nonEmpty(region)),
  dryRun: z.optional(z.boolean()),
  detectors: z.optional(
    z.strictObject(Object.fromEntries(DETECTORS.map((d) => [d.id, z.optional(scopedDetectorEntry)]))),
  ),
  /** Added to the global exemptions. */
  exemptions: z.optional(
    z.strictObject({
      tags: z.optional(z.array(exemptTag)),
      namespaces: z.optional(z.array(z.string().check(z.minLength(1)))),
      principals: z.optional(z.array(principalPattern)),
    }),
  ),
  limits: z.optional(z.strictObject({ automaticActionsPerAccount: z.optional(automaticActionsPerAccount) })),
});

function detectorEntry(settings: z.ZodMiniType) {
  return z.strictObject({
    /** auto: fix; approve: ask a human first; alert: only notify; off: ignore. Default: the detector's. */
    mode: z.optional(mode),
    /** Dry-run this detector even when the global dryRun is false. */
    dryRun: z.optional(z.boolean()),
    /** Observe only until promoted: decisions are recorded, nothing is acted on or notified. */
    staged: z.optional(z.boolean()),
    settings: z.optional(settings),
  });
}

/**
 * The default exemption tags: the project's own, on any resource; and, on security groups only, the tags of the groups
 * a controller or IaC owns, which would put back a revoked rule at its next reconcile or stack update (a loop of
 * revoke and re-add, never a fix). Limited to security groups because CloudFormation tags every resource of a stack
 * (eksctl's clusters and node groups too), which must not exempt those from the endpoint, logging, access and
 * isolation actions.
 * - AWS Load Balancer Controller: every security group it creates carries `elbv2.k8s.aws/cluster` (the tag its own
 *   IAM policy conditions on), with `ingress.k8s.aws/resource` (Ingress) or `service.k8s.aws/resource` (Service).
 *   https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/security_groups/
 * - CloudFormation (and CDK, eksctl): `aws:cloudformation:stack-name` on every resource of a stack that can be tagged.
 *   https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-resource-tags.html
 */
export const DEFAULT_EXEMPT_TAGS: readonly ExemptTag[] = [
  { key: "eks-responder:exempt", value: "true" },
  { key: "elbv2.k8s.aws/cluster", resources: ["security-group"] },
  { key: "ingress.k8s.aws/resource", resources: ["security-group"] },
  { key: "service.k8s.aws/resource", resources: ["security-group"] },
  { key: "aws:cloudformation:stack-name", resources: ["security-group"] },
];
/** A fresh copy each time: a parsed policy never shares (or lets a caller change) the default's lists. */
function defaultExemptTags(): { key: string; value?: string; resources?: ExemptResource[] }[] {
  return DEFAULT_EXEMPT_TAGS.map((t) => ({
    key: t.key,
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.resources ? { resources: [...t.resources] } : {}),
  }));
}

export const policySchema = z.strictObject({
  $schema: z.optional(z.string()),
  version: z._default(z.literal(1), 1),
  /** Global dry-run: plan and report, change nothing. Default on; set false to let auto mode act. */
  dryRun: z._default(z.boolean(), true),
  /** Empty lists mean every account, region, cluster. */
  scope: z._default(
    z.strictObject({
      accounts: z._default(z.array(accountId), []),
      regions: z._default(z.array(region), []),
      clusters: z._default(z.array(z.string().check(z.minLength(1))), []),
    }),
    { accounts: [], regions: [], clusters: [] },
  ),
  detectors: z._default(
    z.strictObject(Object.fromEntries(DETECTORS.map((d) => [d.id, z.optional(detectorEntry(d.settings))]))),
    {},
  ),
  exemptions: z._default(
    z.strictObject({
      /**
       * Resources carrying one of these tags (value optional: any value) are never acted on; `resources` limits a tag
       * to those kinds of resource. Default: the project's tag, and the tags of controller- and IaC-managed security
       * groups (DEFAULT_EXEMPT_TAGS).
       */
      tags: z._default(z.array(exemptTag), defaultExemptTags),
      /** Kubernetes namespaces whose workloads are never acted on. */
      namespaces: z._default(z.array(z.string().check(z.minLength(1))), []),
      /** Changes made by these principals (ARN patterns, `*` wildcard) are not acted on. */
      principals: z._default(z.array(principalPattern), []),
      accounts: z._default(z.array(accountId), []),
      /** Source CIDRs that are never treated as open, however wide. */
      cidrs: z._default(z.array(cidr), []),
    }),
    () => ({ tags: defaultExemptTags(), namespaces: [], principals: [], accounts: [], cidrs: [] }),
  ),
  /**
   * Settings per account, OU and region, applied in order over the global ones (policy/scopes.ts): detector modes,
   * dry-run, staged, added exemptions, the blast-radius limit per account.
   */
  scopes: z._default(z.array(scopeSchema).check(z.maxLength(200)), []),
  /** What the responder knows of the organization, for `scopes[].ous`. */
  organization: z._default(
    z.strictObject({
      /**
       * Each account's OUs: its own and every one above it up to the root (organizations:ListParents, walked up).
       * An account left out matches no OU scope.
       */
      accountOus: z._default(z.record(accountId, z.array(ouId)), {}),
    }),
    { accountOus: {} },
  ),
  endpoint: z._default(
    z.strictObject({
      /** What eks:restrict-endpoint narrows a public cluster endpoint to. Empty: turn it off if private access is on. */
      allowedPublicCidrs: z._default(z.array(cidr).check(z.maxLength(40)), []),
    }),
    { allowedPublicCidrs: [] },
  ),
  /** The responder's own identity: calls made with these roles are its own changes, never acted on. */
  responder: z._default(
    z.strictObject({
      /**
       * IAM role ARNs of this deployment (function roles, rollback role), exact. The deployed functions add their own
       * (RESPONDER_ROLE_ARNS, set by the infra); set them here for `replay`.
       */
      roleArns: z._default(z.array(roleArn).check(z.maxLength(100)), []),
      /**
       * Hub mode: the member execution role's name (`path/name` when it has a path), the role the hub assumes in every
       * member account. Its sessions in the account of an event are the responder's own. The hub's functions add it
       * (MEMBER_ROLE_NAME); set it here for `replay` of member accounts' events.
       */
      memberRoleName: z.optional(
        z
          .string()
          .check(
            z.regex(
              /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/,
              "expected an IAM role name such as eks-responder-execution (a path before it allowed)",
            ),
          ),
      ),
    }),
    { roleArns: [] },
  ),
  limits: z._default(
    z.strictObject({
      /** Blast radius: at most this many automatic actions per account in any window; beyond it, approval is asked. */
      automaticActionsPerAccount: z._default(automaticActionsPerAccount, 20),
      /**
       * Blast radius across every account (hub mode): at most this many automatic actions in all accounts together
       * per window, a second counter beside each account's. Absent: no total, each account's limit alone.
       */
      automaticActionsTotal: z.optional(z.number().check(z.int(), z.gte(0), z.lte(100_000))),
      windowSeconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(86_400)), 600),
      /**
       * Flapping: a rule revoked this many times within windowSeconds (re-added each time) is not revoked again; the
       * next re-add is an alert naming who re-adds it.
       */
      flapping: z._default(
        z.strictObject({
          revocations: z._default(z.number().check(z.int(), z.gte(1), z.lte(100)), 3),
          windowSeconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(7 * 86_400)), 3600),
        }),
        { revocations: 3, windowSeconds: 3600 },
      ),
      /** How long a rule put back by `eks-responder rollback` is not fixed again (an alert instead). */
      restoredHoldSeconds: z._default(z.number().check(z.int(), z.gte(0), z.lte(30 * 86_400)), 86_400),
    }),
    {
      automaticActionsPerAccount: 20,
      windowSeconds: 600,
      flapping: { revocations: 3, windowSeconds: 3600 },
      restoredHoldSeconds: 86_400,
    },
  ),
  approvals: z._default(
    z.strictObject({
      /** Who may approve: Slack user ids (buttons) and email addresses (signed links sent through SNS). */
      approvers: z._default(
        z.strictObject({
          slackUserIds: z._default(
            z.array(z.string().check(z.regex(/^[UW][A-Z0-9]{2,}$/, "expected a Slack user id such as U0123ABCD"))),
            [],
          ),
          emails: z._default(z.array(z.email("expected an email address")), []),
        }),
        { slackUserIds: [], emails: [] },
      ),
      /** How long an approval waits before it times out (and nothing is done). */
      timeoutSeconds: z._default(z.number().check(z.int(), z.gte(60), z.lte(7 * 24 * 3600)), 3600),
      /** The Slack channel approval requests go to. */
      slackChannel: z.optional(z.string().check(z.minLength(1))),
    }),
    { approvers: { slackUserIds: [], emails: [] }, timeoutSeconds: 3600 },
  ),
  notify: z._default(
    z.strictObject({
      routes: z._default(
        z.array(
          z.strictObject({
            name: z.string().check(z.minLength(1)),
            minSeverity: z._default(severity, "low"),
            detectors: z.optional(z.array(z.enum(DETECTORS.map((d) => d.id) as [string, ...string[]]))),
            slack: z.optional(z.strictObject({ channel: z.string().check(z.minLength(1)) })),
            sns: z.optional(
              z.strictObject({
                topicArn: z
                  .string()
                  .check(z.regex(new RegExp(`^arn:${ARN_PARTITION}:sns:`), "expected an SNS topic ARN")),
              }),
            ),
          }),
        ),
        [],
      ),
    }),
    { routes: [] },
  ),
});

export type PolicyInput = z.input<typeof policySchema>;
export type Policy = z.output<typeof policySchema>;
