/**
 * The respond function as deployed, for tests that drive its handler: the environment it reads, its policy and kill
 * switch in SSM (mocked, answering as GetParameter and GetParameters do), and world-open ingress events built from the
 * real CloudTrail example, each with its own event id, account, group, rule and event time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GetParameterCommand, GetParametersCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { AwsClientStub } from "aws-sdk-client-mock";
import { afterAll, beforeAll } from "vitest";
import { type LocalDynamo, startDynalite } from "./dynalite.ts";
import { getParametersFrom } from "./ssm.ts";

const ROOT = join(import.meta.dirname, "../..");
const POLICY = "/eks-responder/policy";
const KILL_SWITCH = "/eks-responder/kill-switch";

/** The variables the respond function reads, pointed at a local DynamoDB. */
export function respondEnv(endpoint: string, table: string): Record<string, string> {
  return {
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    TABLE_NAME: table,
    POLICY_PARAMETER_NAME: POLICY,
    KILL_SWITCH_PARAMETER_NAME: KILL_SWITCH,
    POWERTOOLS_LOG_LEVEL: "ERROR",
  };
}

/** The policy and kill switch in SSM (names not found go to InvalidParameters, as SSM answers). */
export function setPolicy(ssm: AwsClientStub<SSMClient>, policy: unknown, killSwitch = "off"): void {
  ssm.reset();
  const values = new Map([
    [POLICY, JSON.stringify(policy)],
    [KILL_SWITCH, killSwitch],
  ]);
  ssm.on(GetParameterCommand, { Name: POLICY }).resolves({ Parameter: { Value: JSON.stringify(policy) } });
  ssm.on(GetParameterCommand, { Name: KILL_SWITCH }).resolves({ Parameter: { Value: killSwitch } });
  ssm.on(GetParametersCommand).callsFake(getParametersFrom(values));
}

/** The real AuthorizeSecurityGroupIngress example, as event number `n` of `account` at `eventTime`. */
export function openIngressEvent(n: number, account: string, eventTime: string): Record<string, unknown> {
  const text = readFileSync(
    join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"),
    "utf8",
  );
  const hex = n.toString(16).padStart(8, "0");
  return JSON.parse(
    text
      .replaceAll("776520358045", account)
      .replaceAll("2aae5c69-4eaf-490d-b022-fd622c12a717", `2aae5c69-4eaf-490d-b022-${hex.padStart(12, "0")}`)
      .replaceAll("e7f3c1a2-0b9d-4c8e-a1f2-3b4c5d6e7f80", `e7f3c1a2-0b9d-4c8e-a1f2-${hex.padStart(12, "0")}`)
      .replaceAll("sg-0632fa4ee8a8468a4", `sg-0632fa4e${hex}`)
      .replaceAll("sgr-09be5c962afdc06ed", `sgr-09be5c96${hex}`)
      .replaceAll("2025-06-15T10:51:12Z", eventTime),
  ) as Record<string, unknown>;
}

/**
 * A local DynamoDB with the eks-responder table for the whole file (started before its tests, stopped after), and the
 * process environment put back afterwards.
 */
export function localTable(): { dynamo: () => LocalDynamo; table: () => string } {
  let dynamo: LocalDynamo | undefined;
  let table: string | undefined;
  const saved = { ...process.env };
  beforeAll(async () => {
    dynamo = await startDynalite();
    table = await dynamo.createTable();
  });
  afterAll(async () => {
    await dynamo?.stop();
    process.env = saved;
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the local table is started in beforeAll");
    return value;
  };
  return { dynamo: () => started(dynamo), table: () => started(table) };
}
