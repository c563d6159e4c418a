import {
  FUNCTION_ACCESS,
  functionStatements,
  type IamContext,
  lambdaTrustPolicy,
  type PolicyStatement,
  parameterArn,
  toSstPermissions,
} from "./iam.ts";
import { HUB_ACTING_FUNCTIONS } from "./member-template.ts";
import {
  FUNCTIONS,
  type FunctionId,
  RESPOND_RESERVED_CONCURRENCY,
  responderRoleArns,
  type Settings,
} from "./naming.ts";
import { hubMemberAccessStatements } from "./organization-iam.ts";

export interface FunctionDeps {
  settings: Settings;
  /** The resolved names and ARNs the IAM documents use. */
  iam: $util.Output<IamContext>;
  tableName: $util.Input<string>;
  topicArn: $util.Input<string>;
}

/** Hub mode: the functions that act in member accounts may assume the member roles (organization-iam.ts). */
export function hubStatements(id: FunctionId, settings: Settings, c: IamContext): PolicyStatement[] {
  const org = settings.deployment === "hub" ? settings.organization : undefined;
  if (!org || !HUB_ACTING_FUNCTIONS.some((acting) => acting === id)) return [];
  return hubMemberAccessStatements({
    partition: c.partition,
    memberRoleName: org.memberRoleName,
    organizationId: org.organizationId,
    externalId: org.externalId,
    externalIdParameterArn: parameterArn(c, settings.memberExternalIdParameterName),
  });
}

/**
 * Hub mode's environment (none in standalone mode): the mode for every function, and for those that act in member
 * accounts the member role's name and the parameter holding the ExternalId.
 */
export function hubEnvironment(id: FunctionId, settings: Settings): Record<string, string> {
  const org = settings.deployment === "hub" ? settings.organization : undefined;
  if (!org) return {};
  return {
    EKS_RESPONDER_MODE: "hub",
    ...(HUB_ACTING_FUNCTIONS.some((acting) => acting === id)
      ? {
          MEMBER_ROLE_NAME: org.memberRoleName,
          MEMBER_EXTERNAL_ID_PARAMETER_NAME: settings.memberExternalIdParameterName,
        }
      : {}),
  };
}

export function logicalName(id: FunctionId): string {
  return id.replace(/(^|-)([a-z])/g, (_match, _dash: string, c: string) => c.toUpperCase());
}

/** The environment contract of the handlers, common to every function. */
export function commonEnvironment(deps: FunctionDeps): Record<string, $util.Input<string>> {
  const p = deps.settings.parameterNames;
  return {
    TABLE_NAME: deps.tableName,
    POLICY_PARAMETER_NAME: p.policy,
    KILL_SWITCH_PARAMETER_NAME: p.killSwitch,
    SNS_TOPIC_ARN: deps.topicArn,
    SLACK_WEBHOOK_PARAMETER_NAME: p.slackWebhook,
    SLACK_TOKEN_PARAMETER_NAME: p.slackToken,
    SLACK_SIGNING_SECRET_PARAMETER_NAME: p.slackSigningSecret,
    APPROVAL_LINK_SECRET_PARAMETER_NAME: p.approvalLinkSecret,
    POWERTOOLS_SERVICE_NAME: deps.settings.app,
    // The deployment's own roles: CloudTrail events of calls made with them are never acted on.
    RESPONDER_ROLE_ARNS: deps.iam.apply((c) => responderRoleArns(c.partition, c.account, deps.settings).join(",")),
  };
}

/**
 * One Lambda function: Node.js 22 on arm64 (Graviton: about 20% cheaper per GB-second than x86), bundled by esbuild
 * as minified ESM with code splitting, so the AWS SDK clients a handler imports lazily stay out of its cold start.
 * Memory and timeout come from FUNCTIONS (naming.ts), where each choice is explained. The role gets exactly
 * functionStatements(id) (iam.ts): no `link`, which would grant wildcard actions, and no AWSLambdaBasicExecutionRole,
 * which allows writing to every log group: the function may write to its own log group only. The trust policy is
 * replaced by lambdaTrustPolicy() (see there why).
 */
export function createFunction(
  id: FunctionId,
  deps: FunctionDeps,
  extraEnvironment: Record<string, $util.Input<string>> = {},
) {
  const spec = FUNCTIONS[id];
  return new sst.aws.Function(logicalName(id), {
    name: deps.settings.functionNames[id],
    description: spec.description,
    handler: spec.handler,
    runtime: "nodejs22.x",
    architecture: "arm64",
    memory: `${spec.memoryMb} MB`,
    timeout: `${spec.timeoutSeconds} seconds`,
    // infra/esbuild-plugins.mjs: the SDK's imports of node:http(s) go through require (no undici load at cold start).
    nodejs: { format: "esm", splitting: true, minify: true, plugins: "infra/esbuild-plugins.mjs" },
    logging: { retention: "3 months", format: "json" },
    environment: {
      ...commonEnvironment(deps),
      ...extraEnvironment,
      ...hubEnvironment(id, deps.settings),
      // In the VPC, the function may reach private-only cluster endpoints (packages/functions/src/config.ts).
      ...(FUNCTION_ACCESS[id].kubernetes && deps.settings.vpc ? { KUBERNETES_IN_VPC: "true" } : {}),
    },
    ...(id === "respond" ? { concurrency: { reserved: RESPOND_RESERVED_CONCURRENCY } } : {}),
    // Private or CIDR-restricted cluster endpoints: the functions that make Kubernetes calls run in the VPC
    // (docs/kubernetes.md); the interface permissions are in their own policy (iam.ts kubernetesStatements), as the
    // managed policy SST would attach is removed below.
    ...(FUNCTION_ACCESS[id].kubernetes && deps.settings.vpc
      ? {
          vpc: {
            privateSubnets: deps.settings.vpc.subnetIds,
            securityGroups: deps.settings.vpc.securityGroupIds,
          },
        }
      : {}),
    permissions: deps.iam.apply((context) =>
      toSstPermissions([...functionStatements(id, context), ...hubStatements(id, deps.settings, context)]),
    ),
    // The approval callback verifies Slack signatures and signed links itself (packages/core/src/approval).
    // No CORS: Slack calls it server to server, and the approval page posts its form to its own origin.
    ...(id === "approval-callback" ? { url: { authorization: "none" as const, cors: false } } : {}),
    transform: {
      role: (args) => {
        // A fixed name (naming.ts), so the functions can tell their own calls in CloudTrail (RESPONDER_ROLE_ARNS).
        args.name = deps.settings.functionRoleNames[id];
        args.managedPolicyArns = [];
        args.assumeRolePolicy = JSON.stringify(lambdaTrustPolicy());
      },
    },
  });
}
