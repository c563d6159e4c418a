import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicy, listAudit, processEvent } from "../../../packages/core/src/index.ts";
import { deciderOf, handleRecord } from "../../../packages/functions/src/approval-tasks.ts";
import { Runtime } from "../../../packages/functions/src/runtime.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

const ROOT = join(import.meta.dirname, "../../..");
const result = processEvent(
  readFileSync(join(ROOT, "examples/events/ct-10-eks-associate-access-policy-cluster-admin.json"), "utf8"),
  defaultPolicy(),
);
const assessment = result.assessments[0];
let dynamo: LocalDynamo;
let table: string;
const saved = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  Object.assign(process.env, {
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "secret",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
});
afterAll(async () => {
  await dynamo.stop();
  process.env = saved;
});

function state(approval: unknown) {
  if (!assessment) throw new Error("the sample must assess");
  return {
    Payload: {
      assessment,
      plan: result.plan,
      reasons: ["mode approve"],
      approvers: { slackUserIds: ["U1"], emails: [] },
      timeoutSeconds: 3600,
    },
    approval,
  };
}

describe("the approval's Record task", () => {
  it("writes the end of the approval to the DynamoDB audit, naming who approved or rejected it", async () => {
    const rt = new Runtime({ TABLE_NAME: table, POLICY_PARAMETER_NAME: "/p" });
    const approved = { decision: "approved", approver: "slack:U1" };
    const rejected = {
      Error: "Rejected",
      Cause: JSON.stringify({ decision: "rejected", approver: "email:a@example.com" }),
    };
    await handleRecord({ outcome: "applied", executionId: "exec-approved", state: state(approved) }, rt);
    await handleRecord({ outcome: "rejected", executionId: "exec-rejected", state: state(rejected) }, rt);
    await handleRecord({ outcome: "timed-out", executionId: "exec-timeout", state: state(undefined) }, rt);
    const audit = await listAudit(dynamo.docClient, table, {});
    const byExecution = new Map(audit.map((r) => [r.eventId, r]));
    expect(byExecution.get("exec-approved")).toMatchObject({
      outcome: "applied",
      mode: "approve",
      reasons: ["approval applied", "approved by slack:U1"],
    });
    expect(byExecution.get("exec-rejected")).toMatchObject({
      outcome: "skipped",
      reasons: ["approval rejected", "rejected by email:a@example.com"],
    });
    expect(byExecution.get("exec-timeout")?.reasons).toEqual(["approval timed-out"]);
  });

  it("keeps why an approved change was not made: the refusal the workflow caught", async () => {
    const rt = new Runtime({ TABLE_NAME: table, POLICY_PARAMETER_NAME: "/p" });
    const refusal = {
      Error: "ActionRefused",
      Cause: JSON.stringify({
        errorType: "ActionRefused",
        errorMessage: "ec2:revoke-ingress refused: security group sg-0632fa4ee8a8468a4 carries the exemption tag x=y",
      }),
    };
    const approved = { decision: "approved", approver: "slack:U1" };
    await handleRecord(
      { outcome: "apply-refused", executionId: "exec-refused", state: { ...state(approved), error: refusal } },
      rt,
    );
    const audit = await listAudit(dynamo.docClient, table, {});
    expect(audit.find((r) => r.eventId === "exec-refused")).toMatchObject({
      outcome: "alert",
      reasons: [
        "approval apply-refused",
        "approved by slack:U1",
        "ActionRefused: ec2:revoke-ingress refused: security group sg-0632fa4ee8a8468a4 carries the exemption tag x=y",
      ],
    });
  });

  it("names nobody when the state does not hold a well-formed decision", () => {
    expect(deciderOf({ decision: "approved", approver: "slack:U1" })).toEqual({
      decision: "approved",
      approver: "slack:U1",
    });
    for (const bad of [
      undefined,
      "approved",
      { decision: "maybe", approver: "slack:U1" },
      { decision: "approved", approver: "slack:U1\nforged line" },
      { decision: "approved", approver: "nobody" },
      { Error: "Rejected", Cause: "not json" },
      { Error: "States.Timeout", Cause: JSON.stringify({ decision: "approved" }) },
    ]) {
      expect(deciderOf(bad)).toBeUndefined();
    }
  });
});
