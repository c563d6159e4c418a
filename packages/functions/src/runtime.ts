import { Logger } from "@aws-lambda-powertools/logger";
import { clearCaches } from "@aws-lambda-powertools/parameters";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
// Deep imports, not the package index: the index also re-exports the notifier, which a bundler would then load
// with every handler (bench/cold-start.ts shows what each handler loads at import).
import { type ActingFor, type AwsClients, createAwsClients } from "@eks-responder/core/aws/clients.ts";
// Statically: config.ts imports it already (isRolePathName), and the SDK parts it needs it imports on first use.
import { memberCredentials, memberRoleArn, memberSessionName, partitionOf } from "@eks-responder/core/aws/member.ts";
import type { KubernetesAccess } from "@eks-responder/core/kubernetes/api.ts";
import { loadOnce } from "@eks-responder/core/lazy.ts";
import { parsePolicy } from "@eks-responder/core/policy/load.ts";
import type { Policy } from "@eks-responder/core/policy/schema.ts";
import { ConfigError, type FunctionConfig, readConfig } from "./config.ts";

/**
 * How long SSM values are cached: the policy and secrets a minute. The kill switch is never served from the cache
 * where an action is about to run (freshParameter); its maxAge only says how long Powertools keeps the value it read.
 */
export const POLICY_CACHE_SECONDS = 60;
export const KILL_SWITCH_CACHE_SECONDS = 30;
/**
 * How long a member account's clients (one per account, region and assessment) are kept: under the member session's
 * 900 s (aws/member.ts MEMBER_SESSION_SECONDS), so no expired session is kept around; the SDK refreshes the
 * credentials of clients in use before they expire anyway.
 */
export const MEMBER_CLIENTS_CACHE_MS = 600_000;

export const logger = new Logger({ serviceName: "eks-responder" });

/**
 * Reads one SSM parameter through Powertools (cached per `maxAge`). The SSM client is imported on the first read, not
 * when the handler is loaded: every SDK client is, so an invocation pays only for the clients its path needs and the
 * bundle's import stays small (bench/cold-start.ts measures both the import and the first events).
 */
async function readParameter(
  name: string,
  options: { maxAge: number; decrypt?: boolean; forceFetch?: boolean },
): Promise<string | undefined> {
  const { getParameter } = await import("@aws-lambda-powertools/parameters/ssm");
  return getParameter(name, options);
}

/**
 * What every function shares, built once per container. Clients are imported and created on first use, so a function
 * pays only for the SDKs its path needs.
 */
export class Runtime {
  readonly config: FunctionConfig;
  private readonly clientsByRegion = new Map<string, AwsClients>();
  private readonly memberClients = new Map<string, { clients: AwsClients; until: number }>();
  private readonly now: () => number;

  constructor(env: Record<string, string | undefined> = process.env, options: { now?: () => number } = {}) {
    this.config = readConfig(env);
    this.now = options.now ?? Date.now;
  }

  /**
   * The clients of `region` acting for `target`. Standalone, and for the hub's own account: the function's own role.
   * Hub mode, another account: the member role of that account (aws/member.ts), assumed with the ExternalId and a session
   * named after the assessment, kept per account, region and assessment for MEMBER_CLIENTS_CACHE_MS. The EKS tokens of
   * those clients are signed with the same member session (kubernetes/access.ts signs with the EKS client's
   * credentials). A hub that cannot assume the role fails the action (MemberRoleError): it never falls back to its own.
   */
  clients(region: string, target?: ActingFor): AwsClients {
    const hub = this.config.hub;
    if (hub && target && target.account !== hub.account) return this.memberClientsFor(region, target, hub);
    let clients = this.clientsByRegion.get(region);
    if (!clients) {
      clients = createAwsClients(region);
      this.clientsByRegion.set(region, clients);
    }
    return clients;
  }

  private memberClientsFor(region: string, target: ActingFor, hub: NonNullable<FunctionConfig["hub"]>): AwsClients {
    const at = this.now();
    for (const [key, entry] of this.memberClients) if (entry.until <= at) this.memberClients.delete(key);
    const key = `${target.account}/${region}/${target.assessmentId}`;
    const cached = this.memberClients.get(key);
    if (cached) return cached.clients;
    const externalId = () =>
      readParameter(hub.externalIdParameterName, { decrypt: true, maxAge: POLICY_CACHE_SECONDS });
    const credentials = async () => {
      const roleArn = memberRoleArn(await partitionOf(region), target.account, hub.memberRoleName);
      const role = { roleArn, externalId, sessionName: memberSessionName(target.assessmentId) };
      return memberCredentials(role, region)();
    };
    const clients = createAwsClients(region, { credentials });
    this.memberClients.set(key, { clients, until: at + MEMBER_CLIENTS_CACHE_MS });
    return clients;
  }

  /**
   * The Kubernetes API of the region's EKS clusters (ApplyContext.kubernetes), with EKS tokens signed by the function's
   * role. Nothing of the Kubernetes code (the client, the token, the signer) is imported until a Kubernetes action first
   * asks for a cluster: test/unit/infra/bundles.test.ts checks that the handlers' bundles load none of it at import. A
   * function outside the VPC refuses a private-only cluster endpoint with the reason; one deployed in the VPC
   * (config.kubernetesInVpc) reaches it.
   */
  kubernetes(region: string, target?: ActingFor): KubernetesAccess {
    // One access per region's clients (kubernetesFor keeps it), so its cache of clusters and tokens is shared; in a
    // member account, per member clients, so the tokens are signed with the member session.
    const options = { reachesPrivateEndpoints: this.config.kubernetesInVpc };
    return async (cluster) =>
      (await import("@eks-responder/core/actions/runtimes.ts")).kubernetesFor(
        this.clients(region, target),
        options,
      )(cluster);
  }

  /** The DynamoDB document client, imported and created on first use. */
  readonly dynamo: () => Promise<DynamoDBDocumentClient> = loadOnce(async () => {
    const { DynamoDBClient, DynamoDBDocumentClient } = await import("@eks-responder/core/store/dynamodb-sdk.ts");
    return DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  });

  /** The SSM client for the policy and the kill switch read together (respondSettings), created on first use. */
  private readonly ssm = loadOnce(async () => {
    const { GetParametersCommand, SSMClient } = await import("@eks-responder/core/aws/ssm.ts");
    return { client: new SSMClient({}), GetParametersCommand };
  });

  /** The respond function's policy, as read and validated, until it is POLICY_CACHE_SECONDS old. */
  private cachedPolicy: { policy: Policy; until: number } | undefined;

  /** The SNS client, imported and created on first use. */
  readonly sns: () => Promise<SNSClient> = loadOnce(async () => {
    const { SNSClient } = await import("@eks-responder/core/aws/sns.ts");
    return new SNSClient({});
  });

  /** The policy from its SSM parameter, validated; an invalid policy throws (and nothing is acted on). */
  async policy(): Promise<Policy> {
    const text = await readParameter(this.config.policyParameterName, { maxAge: POLICY_CACHE_SECONDS });
    if (text === undefined) throw new Error(`SSM parameter ${this.config.policyParameterName} is empty`);
    const policy = parsePolicy(JSON.parse(text), `SSM parameter ${this.config.policyParameterName}`);
    // The deployment's own roles join the policy's: their calls are never acted on (guardrails/own-calls.ts).
    return withOwnRoles(policy, this.config);
  }

  /**
   * What the respond path needs before it decides: the policy (cached POLICY_CACHE_SECONDS) and the kill switch. When
   * the policy must be read, both are read in one GetParameters call, so the kill switch comes with it, fresh (read now,
   * past every cache); when the policy is cached, `killSwitch` is absent and the kill switch is read on its own
   * (freshParameter) once something could be acted on. A missing kill switch parameter is `{ value: undefined }`, which
   * the kill switch counts as on; a missing or invalid policy throws (nothing is acted on); a failed GetParameters falls
   * back to one read each. GetParameters lists names it
   * does not find in InvalidParameters instead of failing
   * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
   */
  async respondSettings(now = Date.now()): Promise<{ policy: Policy; killSwitch?: { value: string | undefined } }> {
    if (this.cachedPolicy && now < this.cachedPolicy.until) return { policy: this.cachedPolicy.policy };
    const policyName = this.config.policyParameterName;
    const killName = this.killSwitchParameter();
    const { client, GetParametersCommand } = await this.ssm();
    let out: { Parameters?: { Name?: string; Value?: string }[] };
    try {
      out = await client.send(new GetParametersCommand({ Names: [policyName, killName] }));
    } catch (error) {
      // One parameter the function may not read fails the whole call: read them apart, so that an unreadable kill
      // switch counts as on (an alert), as it does on its own, and only an unreadable policy fails the invocation.
      logger.warn("GetParameters failed: reading the policy and the kill switch one at a time", { error });
      return { policy: await this.policy() };
    }
    const read = (name: string) => out.Parameters?.find((p) => p.Name === name)?.Value;
    const text = read(policyName);
    if (text === undefined) throw new Error(`SSM parameter ${policyName} is missing or empty`);
    const policy = withOwnRoles(parsePolicy(JSON.parse(text), `SSM parameter ${policyName}`), this.config);
    this.cachedPolicy = { policy, until: now + POLICY_CACHE_SECONDS * 1000 };
    return { policy, killSwitch: { value: read(killName) } };
  }

  async secret(name: string | undefined): Promise<string | undefined> {
    if (!name) return undefined;
    return readParameter(name, { decrypt: true, maxAge: POLICY_CACHE_SECONDS });
  }

  /**
   * The notifier of the policy's routes: SNS to the topic, Slack through the webhook or bot token in SSM. With
   * `digest`, Slack messages beyond one per second per channel go to the minute's digest in the table. Imported on
   * first use, like the SDK clients: a skipped event never loads it.
   */
  async notifier(policy: Policy, options: { digest?: boolean } = {}) {
    const { createNotifier, slackDigest } = await import("@eks-responder/core/notify/notifier.ts");
    const webhookUrl = await this.secret(this.config.slackWebhookParameterName);
    const token = await this.secret(this.config.slackTokenParameterName);
    return createNotifier({
      routes: policy.notify.routes,
      ...(this.config.snsTopicArn ? { sns: await this.sns() } : {}),
      slack: { ...(webhookUrl ? { webhookUrl } : {}), ...(token ? { token } : {}) },
      ...(options.digest ? { digest: slackDigest(await this.dynamo(), this.config.tableName) } : {}),
      sleep,
    });
  }

  /**
   * One SSM parameter read now, past every cache (Powertools' `forceFetch`): the kill switch just before an action
   * runs, so that turning it on stops the very next action in a warm container too.
   */
  async freshParameter(name: string): Promise<string | undefined> {
    return readParameter(name, { maxAge: KILL_SWITCH_CACHE_SECONDS, forceFetch: true });
  }

  /**
   * The kill switch's parameter name. Respond and approval-apply cannot run without one: a missing setting is a
   * configuration error, never "no switch".
   */
  killSwitchParameter(): string {
    const name = this.config.killSwitchParameterName;
    if (!name) {
      throw new ConfigError(
        "environment variable KILL_SWITCH_PARAMETER_NAME is not set: a function that can act needs its kill switch",
      );
    }
    return name;
  }
}

/**
 * The policy with the deployment's own roles joined to its own: the function roles and the rollback role
 * (RESPONDER_ROLE_ARNS) and, in hub mode, the member role (MEMBER_ROLE_NAME). Their calls are never acted on.
 */
function withOwnRoles(policy: Policy, config: FunctionConfig): Policy {
  const own = config.responderRoleArns.filter((arn) => !policy.responder.roleArns.includes(arn));
  const memberRoleName = config.hub?.memberRoleName ?? policy.responder.memberRoleName;
  if (own.length === 0 && memberRoleName === policy.responder.memberRoleName) return policy;
  return {
    ...policy,
    responder: {
      roleArns: [...policy.responder.roleArns, ...own],
      ...(memberRoleName ? { memberRoleName } : {}),
    },
  };
}

let shared: Runtime | undefined;

/** The container's runtime, created at the first invocation (so a missing variable is reported by that invocation). */
export function runtime(): Runtime {
  shared ??= new Runtime();
  return shared;
}

/** For tests: forget the container's runtime and every cached parameter. */
export function resetRuntime(): void {
  shared = undefined;
  clearCaches();
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
