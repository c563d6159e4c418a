/**
 * The whole approval flow as deployed, every seam crossed by the real code on both sides:
 * respond.handler (its StartExecution input, from the core builder) → the real ASL on aws-local-stepfunctions →
 * the real task handlers (approval-*.handler.ts, DynamoDB on dynalite, SNS and EC2 mocked) → the approver's own SNS
 * message → its link opened in Chromium → Approve → the real callback handler (approval-callback.handler.ts behind a
 * local HTTP server) → SendTaskSuccess resumes the execution → Apply revokes the rule (EC2 mocked, exact parameters)
 * → Notify → Record.
 *
 * aws-local-stepfunctions has no task tokens: the RequestApproval state's local handler runs the request function,
 * then waits for the callback's SendTaskSuccess (captured from the mocked SFN client, which the callback handler
 * really calls) and returns its output, as Step Functions does (see approval-workflow.test.ts).
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DescribeSecurityGroupsCommand, EC2Client, RevokeSecurityGroupIngressCommand } from "@aws-sdk/client-ec2";
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetParameterCommand, GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { StateMachine } from "aws-local-stepfunctions";
import { mockClient } from "aws-sdk-client-mock";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPROVAL_PLACEHOLDERS, type ApprovalFunctionArns, approvalDefinition } from "../../infra/approval.ts";
import { verifyApproval } from "../../packages/core/src/approval/links.ts";
import { listAudit } from "../../packages/core/src/index.ts";
import { handler as applyHandler } from "../../packages/functions/src/approval-apply.handler.ts";
import { handler as callbackHandler } from "../../packages/functions/src/approval-callback.handler.ts";
import { handler as notifyHandler } from "../../packages/functions/src/approval-notify.handler.ts";
import { handler as recordHandler } from "../../packages/functions/src/approval-record.handler.ts";
import { handler as requestHandler } from "../../packages/functions/src/approval-request.handler.ts";
import { handler as respondHandler } from "../../packages/functions/src/respond.handler.ts";
import { resetRuntime } from "../../packages/functions/src/runtime.ts";
import { launchChromium } from "../helpers/browser.ts";
import { type LocalDynamo, localDynamoEnvironment, startDynalite } from "../helpers/dynalite.ts";
import { liveGroups } from "../helpers/ec2-groups.ts";
import { must } from "../helpers/fixtures.ts";
import { getParametersFrom } from "../helpers/ssm.ts";

type RunOptions = NonNullable<Parameters<StateMachine["run"]>[1]>;
type LocalHandlers = NonNullable<NonNullable<RunOptions["overrides"]>["taskResourceLocalHandlers"]>;
type Json = Parameters<LocalHandlers[string]>[0];

const ROOT = join(import.meta.dirname, "..", "..");
const EVENT = JSON.parse(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
) as unknown;
const TIMEOUT = 60_000;
const ALICE = "alice@example.com";
const BOB = "bob@example.com";
const ALERTS_TOPIC = "arn:aws:sns:eu-west-1:111122223333:eks-responder-prod-alerts";
const APPROVALS_TOPIC = "arn:aws:sns:eu-west-1:111122223333:eks-responder-prod-approvals";
const LINK_SECRET = "link-secret-0123456789abcdef0123456789";
const TASK_TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAe2e-flow-task-token";
const EXECUTION_ID = "arn:aws:states:eu-west-1:111122223333:execution:eks-responder-prod-approval:asm-e2e";
const PARAMETERS = {
  "/eks-responder/prod/policy": JSON.stringify({
    dryRun: false,
    detectors: { "ec2-open-ingress": { mode: "approve" } },
    approvals: { approvers: { emails: [ALICE, BOB] } },
  }),
  "/eks-responder/prod/kill-switch": "off",
  "/eks-responder/prod/approval-link-secret": LINK_SECRET,
};
const ARNS: ApprovalFunctionArns = {
  requestApproval: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-prod-approval-request",
  apply: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-prod-approval-apply",
  notify: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-prod-approval-notify",
  record: "arn:aws:lambda:eu-west-1:111122223333:function:eks-responder-prod-approval-record",
};
const lambdaContext = (name: string) => ({
  functionName: name,
  awsRequestId: `req-${name}`,
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:111122223333:function:${name}`,
  getRemainingTimeInMillis: () => 30_000,
});

const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const ec2 = mockClient(EC2Client);
const saved = { ...process.env };
let dynamo: LocalDynamo;
let server: Server | undefined;
let browser: Browser | undefined;
let origin = "";

/** A Function URL event (payload format 2.0) for the callback handler, from a request to the local server. */
async function functionUrlEvent(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const url = new URL(req.url ?? "/", origin);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  return {
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ""),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    body: Buffer.concat(chunks).toString("base64"),
    isBase64Encoded: true,
    requestContext: { http: { method: req.method ?? "GET" } },
  };
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const response = await callbackHandler(await functionUrlEvent(req), lambdaContext("approval-callback"));
    res.writeHead(response.statusCode, response.headers).end(response.body);
  } catch (error) {
    res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error));
  }
}

function isStateMachine(value: object): value is ConstructorParameters<typeof StateMachine>[0] {
  return "StartAt" in value && typeof value.StartAt === "string" && "States" in value;
}

/** An error as Step Functions sees it: `name` is what Catch matches. */
class TaskError extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

beforeAll(async () => {
  dynamo = await startDynalite();
  const table = await dynamo.createTable();
  server = createServer((req, res) => void serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server?.once("error", reject);
    server?.listen(0, "127.0.0.1", resolve);
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env = {
    ...saved,
    ...localDynamoEnvironment(dynamo),
    POWERTOOLS_LOG_LEVEL: "ERROR",
    // The environment infra/functions.ts gives the functions (the request function's extras included).
    TABLE_NAME: table,
    POLICY_PARAMETER_NAME: "/eks-responder/prod/policy",
    KILL_SWITCH_PARAMETER_NAME: "/eks-responder/prod/kill-switch",
    SNS_TOPIC_ARN: ALERTS_TOPIC,
    APPROVAL_LINK_SECRET_PARAMETER_NAME: "/eks-responder/prod/approval-link-secret",
    STATE_MACHINE_ARN: "arn:aws:states:eu-west-1:111122223333:stateMachine:eks-responder-prod-approval",
    APPROVAL_CALLBACK_URL: origin,
    APPROVALS_TOPIC_ARN: APPROVALS_TOPIC,
    APPROVER_EMAILS: `${ALICE},${BOB}`,
  };
  resetRuntime();
  for (const [Name, Value] of Object.entries(PARAMETERS))
    ssm.on(GetParameterCommand, { Name }).resolves({ Parameter: { Name, Value } });
  // The respond function reads the policy and the kill switch in one call: found names in Parameters, the others in
  // InvalidParameters (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html).
  const values = new Map<string, string>(Object.entries(PARAMETERS));
  ssm.on(GetParametersCommand).callsFake(getParametersFrom(values));
  // https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html (response: executionArn, startDate)
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION_ID, startDate: new Date() });
  // https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (response: MessageId)
  sns.on(PublishCommand).resolves({ MessageId: "00000000-0000-0000-0000-000000000001" });
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html and
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html (response: Return)
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  browser = await launchChromium();
}, TIMEOUT);

afterAll(async () => {
  process.env = saved;
  resetRuntime();
  server?.closeAllConnections();
  await Promise.all([
    browser?.close(),
    dynamo.stop(),
    new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  ]);
}, TIMEOUT);

describe("the approval flow as deployed", { timeout: TIMEOUT }, () => {
  it("respond → workflow → the approver's own link in Chromium → Approve → callback → apply, record", async () => {
    // The callback's SendTaskSuccess / SendTaskFailure is what resumes the waiting RequestApproval state.
    let answer: (output: Json) => void = () => {};
    let refuse: (error: Error) => void = () => {};
    const callback = new Promise<Json>((resolve, reject) => {
      answer = resolve;
      refuse = reject;
    });
    // https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html (empty response)
    sfn.on(SendTaskSuccessCommand).callsFake((input: { output?: string }) => {
      answer(JSON.parse(input.output ?? "null") as Json);
      return {};
    });
    sfn.on(SendTaskFailureCommand).callsFake((input: { error?: string; cause?: string }) => {
      refuse(new TaskError(input.error ?? "", input.cause ?? ""));
      return {};
    });
    let requested: () => void = () => {};
    const asked = new Promise<void>((resolve) => {
      requested = resolve;
    });

    // 1. respond starts the approval: its StartExecution input is what the workflow runs on.
    const responded = await respondHandler(EVENT, lambdaContext("respond"));
    expect(responded.outcome).toBe("pending-approval");
    const start = must(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input, "StartExecution");
    const executionInput = JSON.parse(must(start.input, "execution input")) as Json;
    const reasons = must((executionInput as { reasons?: string[] }).reasons, "reasons");
    expect(reasons.length).toBeGreaterThan(0);

    // 2. The real ASL, each Task state invoking the real handler of its function.
    const handlers = new Map<string, (payload: unknown) => Promise<unknown>>([
      [ARNS.requestApproval, (p) => requestHandler(p, lambdaContext("approval-request"))],
      [ARNS.apply, (p) => applyHandler(p, lambdaContext("approval-apply"))],
      [ARNS.notify, (p) => notifyHandler(p, lambdaContext("approval-notify"))],
      [ARNS.record, (p) => recordHandler(p, lambdaContext("approval-record"))],
    ]);
    const definition = approvalDefinition(ARNS);
    const local: LocalHandlers = {};
    for (const [state, body] of Object.entries(definition.States)) {
      if (body.Type !== "Task") continue;
      const parameters = body.Parameters as { FunctionName: string; Payload: Json };
      const fn = must(handlers.get(parameters.FunctionName), `handler of ${state}`);
      local[state] = async (effective) => {
        const payload = (effective as { Payload: Json }).Payload;
        if (String(body.Resource).endsWith(".waitForTaskToken")) {
          await fn(payload);
          requested();
          return await callback;
        }
        try {
          return { StatusCode: 200, Payload: (await fn(payload)) as Json };
        } catch (error) {
          const { name, message } = error instanceof Error ? error : new Error(String(error));
          throw new TaskError(name, JSON.stringify({ errorType: name, errorMessage: message }));
        }
      };
    }
    if (!isStateMachine(definition)) throw new Error("approvalDefinition did not return a state machine");
    const execution = new StateMachine(definition).run(executionInput, {
      overrides: { taskResourceLocalHandlers: local },
      context: { Execution: { Id: EXECUTION_ID }, Task: { Token: TASK_TOKEN } },
    });
    await Promise.race([asked, execution.result]);

    // 3. One message per approver on the approvals topic, each with only their own link; nothing on the alerts topic.
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published.map((p) => [p.TopicArn, p.MessageAttributes?.approver?.StringValue])).toEqual([
      [APPROVALS_TOPIC, ALICE],
      [APPROVALS_TOPIC, BOB],
    ]);
    const links = published.map((p) => [
      ...(p.Message ?? "").matchAll(/(http:\/\/127\.0\.0\.1:\d+\/approve\?token=\S+)/g),
    ]);
    expect(links.map((found) => found.length)).toEqual([1, 1]);
    const aliceLink = must(links[0]?.[0]?.[1], "alice's link");
    const token = new URL(aliceLink).searchParams.get("token") ?? "";
    const verified = verifyApproval(token, { secret: LINK_SECRET, now: new Date() });
    expect(verified.ok && verified.payload.sub).toBe(ALICE);

    // 4. Alice opens her link: the page shows the plan and why; she presses Approve.
    const context = await must(browser, "browser").newContext();
    try {
      const page = await context.newPage();
      const opened = await page.goto(aliceLink);
      expect(opened?.status()).toBe(200);
      const why = await page.locator("h2:text('Why') + ul li").allInnerTexts();
      expect(why).toEqual(reasons);
      expect(await page.locator("ol > li code").allInnerTexts()).toEqual(["ec2:RevokeSecurityGroupIngress"]);
      const decided = page.waitForResponse((r) => new URL(r.url()).pathname === "/decide");
      await page.getByRole("button", { name: "Approve" }).click();
      expect((await decided).status()).toBe(200);
    } finally {
      await context.close();
    }

    // 5. The callback resumed the execution: applied, with exactly the planned revoke, and recorded.
    const output = await execution.result;
    expect(output).toEqual({ status: "applied" });
    const sent = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
    expect(sent).toEqual([{ taskToken: expect.any(String), output: expect.any(String) }]);
    // The decision, who made it, and when (the end of the approval's wait, for its record and metric).
    const decided = JSON.parse(sent[0]?.output ?? "") as { decidedAt: string };
    expect(decided).toEqual({ decision: "approved", approver: `email:${ALICE}`, decidedAt: expect.any(String) });
    expect(new Date(decided.decidedAt).toISOString()).toBe(decided.decidedAt);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand).map((c) => c.args[0].input)).toEqual([
      { GroupId: "sg-0632fa4ee8a8468a4", SecurityGroupRuleIds: ["sgr-09be5c962afdc06ed"] },
    ]);
    const audit = await listAudit(dynamo.docClient, must(process.env.TABLE_NAME, "table"), {});
    expect(audit.find((r) => r.eventId === EXECUTION_ID)).toMatchObject({
      outcome: "applied",
      mode: "approve",
      reasons: ["approval applied", `approved by email:${ALICE}`],
    });
    expect(Object.keys(APPROVAL_PLACEHOLDERS)).toHaveLength(handlers.size);
  });
});
