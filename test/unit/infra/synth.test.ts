import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalDefinition } from "../../../infra/approval.ts";
import { approvalsTopicPolicy } from "../../../infra/approvals-policy.ts";
import { searchOf } from "../../../infra/dashboard-body.ts";
import {
  APPROVAL_TASK_FUNCTIONS,
  functionPolicy,
  type IamContext,
  iamContext,
  lambdaTrustPolicy,
  rollbackRolePolicy,
  rollbackTrustPolicy,
  stateMachinePolicy,
  stateMachineTrustPolicy,
  topicKeyPolicy,
} from "../../../infra/iam.ts";
import {
  EVENT_DELIVERY,
  FUNCTION_IDS,
  FUNCTIONS,
  type FunctionId,
  RESPOND_RESERVED_CONCURRENCY,
  type Settings,
  settings,
} from "../../../infra/naming.ts";
import { tableArgs } from "../../../infra/table-args.ts";
import { approverFilterPolicy } from "../../../packages/core/src/approval/approver-channel.ts";
import { ruleSpecs } from "../../../packages/core/src/eventbridge/rules.ts";
import { parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { METRICS } from "../../../packages/core/src/metrics/catalogue.ts";
import { NOTIFICATION_FAILED_MESSAGE, readConfig } from "../../../packages/functions/src/config.ts";
import { resourceTable, SYNTH_APPROVER_EMAILS, withResourceTable } from "../../../scripts/synth.ts";
import { transitionGroupEvent } from "../../helpers/own-events.ts";

/**
 * The resources `run()` of sst.config.ts creates, synthesized offline under Pulumi mocks by scripts/synth.ts
 * (stage prod, account 111122223333, eu-west-1).
 */
const ROOT = join(import.meta.dirname, "../../..");
const ACCOUNT = "111122223333";
const REGION = "eu-west-1";
const names = settings("eks-responder", "prod");

interface Resource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

let out = "";
let resources: Resource[] = [];
let builds: Record<string, unknown>[] = [];
const outs: string[] = [];

/** The Kubernetes settings, empty: the default synth is the same whatever the caller's environment holds. */
const NO_KUBERNETES = {
  EKS_RESPONDER_KUBERNETES_CLUSTERS: "",
  EKS_RESPONDER_KUBERNETES_GROUP: "",
  EKS_RESPONDER_VPC_SUBNET_IDS: "",
  EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "",
};

function node(): string {
  const local = join(ROOT, "node_modules", ".bin", "node");
  return existsSync(local) ? local : process.execPath;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, ".sst", "platform", "src", "auto", "run.ts"))) {
    execFileSync("npm", ["run", "-s", "sst:install"], { cwd: ROOT, stdio: "pipe" });
  }
  out = synthesize(NO_KUBERNETES);
  resources = JSON.parse(readFileSync(join(out, "resources.json"), "utf8")) as Resource[];
  builds = JSON.parse(readFileSync(join(out, "builds.json"), "utf8")) as Record<string, unknown>[];
}, 120_000);

/** Runs scripts/synth.ts (stage prod) with these deploy settings; returns the folder it wrote. */
function synthesize(env: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "eks-responder-synth-"));
  outs.push(dir);
  execFileSync(node(), ["scripts/synth.ts", "--stage", "prod", "--out", dir], {
    cwd: ROOT,
    stdio: "pipe",
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: "true", ...env },
  });
  return dir;
}

afterAll(() => {
  for (const dir of outs) rmSync(dir, { recursive: true, force: true });
});

function ofType(type: string, from: readonly Resource[] = resources): Resource[] {
  return from.filter((r) => r.type === type);
}

function one(type: string, name: string, from: readonly Resource[] = resources): Resource {
  const found = from.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}`);
  return found;
}

function str(value: unknown): string {
  if (typeof value !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}

function record(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("expected an object");
  return value as Record<string, unknown>;
}

/** A policy document with Sids dropped and single values as lists, as IAM compares them. */
function normalize(document: unknown): unknown {
  const doc = record(typeof document === "string" ? JSON.parse(document) : document);
  const list = (v: unknown) => (Array.isArray(v) ? v : [v]);
  return {
    Version: doc.Version,
    Statement: (doc.Statement as Record<string, unknown>[]).map((s) => {
      const condition = s.Condition as Record<string, Record<string, unknown>> | undefined;
      return {
        Effect: s.Effect,
        ...(s.Principal ? { Principal: s.Principal } : {}),
        Action: list(s.Action),
        ...(s.Resource ? { Resource: list(s.Resource) } : {}),
        ...(condition
          ? {
              Condition: Object.fromEntries(
                Object.entries(condition).map(([test, block]) => [
                  test,
                  Object.fromEntries(Object.entries(block).map(([k, v]) => [k, list(v)])),
                ]),
              ),
            }
          : {}),
      };
    }),
  };
}

function functionResource(id: FunctionId, from: readonly Resource[] = resources): Resource {
  const found = ofType("aws:lambda/function:Function", from).find((r) => r.inputs.name === names.functionNames[id]);
  if (!found) throw new Error(`no function ${id}`);
  return found;
}

function roleOf(fn: Resource, from: readonly Resource[] = resources): Resource {
  const arn = str(fn.inputs.role);
  const found = ofType("aws:iam/role:Role", from).find((r) => arn.endsWith(`:role/${str(r.inputs.name)}`));
  if (!found) throw new Error(`no role ${arn}`);
  return found;
}

/** The IAM context the synthesized resources imply, read back from them. */
function synthContext(from: readonly Resource[] = resources, deployed: Settings = names): IamContext {
  const respond = functionResource("respond", from);
  const environment = record(record(respond.inputs.environment).variables);
  const invoke = one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "RespondAsyncInvoke", from);
  const topic = one("aws:sns/topic:Topic", "Alerts", from);
  const request = record(record(functionResource("approval-request", from).inputs.environment).variables);
  return iamContext(
    {
      partition: "aws",
      account: ACCOUNT,
      region: REGION,
      topicArn: str(environment.SNS_TOPIC_ARN),
      approvalsTopicArn: str(request.APPROVALS_TOPIC_ARN),
      topicKeyArn: str(topic.inputs.kmsMasterKeyId),
      deadLetterQueueArn: str(record(record(invoke.inputs.destinationConfig).onFailure).destination),
    },
    deployed,
  );
}

describe("the synthesized event rules", () => {
  it("are on the default bus with exactly the patterns of patterns.ts", () => {
    const rules = ofType("aws:cloudwatch/eventRule:EventRule").filter((r) => r.name !== "DigestSchedule");
    expect(rules.map((r) => r.name)).toEqual(ruleSpecs().map((s) => s.name));
    for (const spec of ruleSpecs()) {
      const rule = one("aws:cloudwatch/eventRule:EventRule", spec.name);
      expect(rule.inputs.eventBusName).toBe("default");
      expect(JSON.parse(str(rule.inputs.eventPattern))).toEqual(spec.pattern);
    }
  });

  it("reserve a concurrency of 10 for the respond function only, pacing a storm to EC2's throttle", () => {
    for (const r of ofType("aws:lambda/function:Function")) {
      const reserved = r.inputs.reservedConcurrentExecutions;
      expect(reserved, r.name).toBe(r.name.startsWith("Respond") ? RESPOND_RESERVED_CONCURRENCY : undefined);
    }
  });

  it("include a schedule that runs the digest function every minute, invocable by that schedule only", () => {
    const schedule = one("aws:cloudwatch/eventRule:EventRule", "DigestSchedule");
    expect(schedule.inputs.scheduleExpression).toBe("rate(1 minute)");
    expect(schedule.inputs.eventPattern).toBeUndefined();
    const target = one("aws:cloudwatch/eventTarget:EventTarget", "DigestScheduleTarget");
    expect(target.inputs.arn).toBe(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.functionNames.digest}`);
    expect(one("aws:lambda/permission:Permission", "DigestScheduleInvoke").inputs.function).toBe(
      names.functionNames.digest,
    );
  });

  it("target the respond function with the retry policy and the dead-letter queue, invocable by that rule only", () => {
    const context = synthContext();
    const respondArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.functionNames.respond}`;
    for (const spec of ruleSpecs()) {
      const target = one("aws:cloudwatch/eventTarget:EventTarget", `${spec.name}Target`);
      expect(target.inputs.arn).toBe(respondArn);
      expect(target.inputs.retryPolicy).toEqual(EVENT_DELIVERY.target);
      expect(target.inputs.deadLetterConfig).toEqual({ arn: context.deadLetterQueueArn });
      const permission = one("aws:lambda/permission:Permission", `${spec.name}Invoke`);
      expect(permission.inputs).toMatchObject({
        action: "lambda:InvokeFunction",
        function: names.functionNames.respond,
        principal: "events.amazonaws.com",
      });
      expect(str(permission.inputs.sourceArn)).toMatch(new RegExp(`^arn:aws:events:${REGION}:${ACCOUNT}:rule/`));
    }
    const invoke = one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "RespondAsyncInvoke");
    expect(invoke.inputs).toMatchObject({ functionName: names.functionNames.respond, ...EVENT_DELIVERY.invoke });
    const queuePolicy = JSON.parse(str(one("aws:sqs/queuePolicy:QueuePolicy", "DeadLetterQueuePolicy").inputs.policy));
    expect(queuePolicy.Statement[0].Principal).toEqual({ Service: "events.amazonaws.com" });
    expect(queuePolicy.Statement[0].Condition.ArnEquals["aws:SourceArn"]).toHaveLength(ruleSpecs().length);
  });
});

describe("the synthesized functions", () => {
  it("run Node.js 22 on arm64 with the memory, timeout and handler of FUNCTIONS", () => {
    expect(ofType("aws:lambda/function:Function")).toHaveLength(FUNCTION_IDS.length);
    for (const id of FUNCTION_IDS) {
      const fn = functionResource(id);
      expect(fn.inputs, id).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        memorySize: FUNCTIONS[id].memoryMb,
        timeout: FUNCTIONS[id].timeoutSeconds,
        handler: FUNCTIONS[id].handler,
      });
    }
  });

  it("are bundled as minified ESM with code splitting and the project's esbuild plugins, and link nothing", () => {
    expect(builds).toHaveLength(FUNCTION_IDS.length);
    for (const build of builds) {
      expect(build.properties, String(build.functionID)).toEqual({
        format: "esm",
        splitting: true,
        minify: true,
        // Relative to sst.config.ts; the file must exist there (bench/cold-start.ts bundles with the same list).
        plugins: "infra/esbuild-plugins.mjs",
        architecture: "arm64",
      });
      expect(existsSync(join(ROOT, String((build.properties as { plugins?: string }).plugins)))).toBe(true);
      expect(build.links).toEqual({});
    }
  });

  it("get the environment contract", () => {
    const contract = [
      "TABLE_NAME",
      "POLICY_PARAMETER_NAME",
      "KILL_SWITCH_PARAMETER_NAME",
      "SNS_TOPIC_ARN",
      "SLACK_WEBHOOK_PARAMETER_NAME",
      "SLACK_TOKEN_PARAMETER_NAME",
      "SLACK_SIGNING_SECRET_PARAMETER_NAME",
      "APPROVAL_LINK_SECRET_PARAMETER_NAME",
      "POWERTOOLS_SERVICE_NAME",
    ];
    for (const id of FUNCTION_IDS) {
      const variables = record(record(functionResource(id).inputs.environment).variables);
      for (const key of contract) expect(variables[key], `${id} ${key}`).toEqual(expect.any(String));
      expect("STATE_MACHINE_ARN" in variables, id).toBe(id === "respond");
      expect("APPROVAL_CALLBACK_URL" in variables, id).toBe(id === "approval-request");
      expect("APPROVALS_TOPIC_ARN" in variables, id).toBe(id === "approval-request");
      expect("APPROVER_EMAILS" in variables, id).toBe(id === "approval-request");
    }
    const respond = record(record(functionResource("respond").inputs.environment).variables);
    expect(respond.STATE_MACHINE_ARN).toBe(synthContext().stateMachineArn);
    expect(respond.POLICY_PARAMETER_NAME).toBe(names.parameterNames.policy);
    const request = record(record(functionResource("approval-request").inputs.environment).variables);
    expect(str(request.APPROVAL_CALLBACK_URL)).toMatch(/^https:\/\/[^/]+\.lambda-url\.[a-z0-9-]+\.on\.aws$/);
  });

  it("tell respond their own roles (RESPONDER_ROLE_ARNS): its isolation's own ingress event is then skipped, never revoked", () => {
    // prepare: the respond function's environment as synthesized, read by the functions' own config reader
    const variables = record(record(functionResource("respond").inputs.environment).variables);
    const config = readConfig(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, str(v)])));
    const synthesized = [
      ...FUNCTION_IDS.map((id) => roleOf(functionResource(id))),
      one("aws:iam/role:Role", "RollbackRole"),
    ].map((role) => `arn:aws:iam::${ACCOUNT}:role/${str(role.inputs.name)}`);
    const respondRole = `arn:aws:iam::${ACCOUNT}:role/${str(roleOf(functionResource("respond")).inputs.name)}`;
    // the transition group's all-traffic ingress that ec2:isolate-instance makes, as CloudTrail records it
    const own = transitionGroupEvent({
      eventId: "own-isolation-1",
      groupId: "sg-0aa11bb22cc33dd44",
      roleArn: respondRole,
    });

    // act: the policy joined with the deployment's roles, as Runtime.policy() does
    const policy = parsePolicy({ dryRun: false, responder: { roleArns: config.responderRoleArns } });
    const result = processEvent(own, policy, { forceDryRun: false });

    // assess
    expect([...config.responderRoleArns].sort()).toEqual([...synthesized].sort());
    expect(result.skipped).toBe("own-call");
    expect(result.plan).toEqual([]);
    const stranger = processEvent(
      transitionGroupEvent({
        eventId: "not-own-1",
        groupId: "sg-0aa11bb22cc33dd44",
        roleArn: `arn:aws:iam::${ACCOUNT}:role/someone-else`,
      }),
      policy,
      { forceDryRun: false },
    );
    expect(stranger.skipped).toBeUndefined();
    expect(stranger.plan.map((step) => step.operation)).toEqual(["RevokeSecurityGroupIngress"]);
  });

  it("have roles whose policy is exactly the iam.ts document, trusted by Lambda only, with no managed policy", () => {
    const context = synthContext();
    for (const id of FUNCTION_IDS) {
      const role = roleOf(functionResource(id));
      const inline = role.inputs.inlinePolicies as { name: string; policy: string }[];
      expect(inline, id).toHaveLength(1);
      expect(normalize(inline[0]?.policy), id).toEqual(normalize(functionPolicy(id, context)));
      expect(role.inputs.managedPolicyArns, id).toEqual([]);
      expect(normalize(role.inputs.assumeRolePolicy), id).toEqual(normalize(lambdaTrustPolicy()));
    }
  });

  it("expose only the approval callback, through a Function URL with auth NONE and no CORS", () => {
    const urls = ofType("aws:lambda/functionUrl:FunctionUrl");
    expect(urls).toHaveLength(1);
    expect(urls[0]?.inputs).toMatchObject({
      functionName: names.functionNames["approval-callback"],
      authorizationType: "NONE",
    });
    expect(urls[0]?.inputs.cors).toBeUndefined();
  });
});

describe("the synthesized approval state machine", () => {
  it("is the JSONPath definition of approval.ts with the task functions' ARNs, logged without execution data", () => {
    const machine = one("aws:sfn/stateMachine:StateMachine", "Approval");
    const arn = (id: FunctionId) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.functionNames[id]}`;
    expect(JSON.parse(str(machine.inputs.definition))).toEqual(
      approvalDefinition({
        requestApproval: arn(APPROVAL_TASK_FUNCTIONS.requestApproval),
        apply: arn(APPROVAL_TASK_FUNCTIONS.apply),
        notify: arn(APPROVAL_TASK_FUNCTIONS.notify),
        record: arn(APPROVAL_TASK_FUNCTIONS.record),
      }),
    );
    expect(machine.inputs).toMatchObject({ name: names.stateMachineName, type: "STANDARD" });
    expect(machine.inputs.loggingConfiguration).toMatchObject({ includeExecutionData: false, level: "ERROR" });
    expect(str(record(machine.inputs.loggingConfiguration).logDestination)).toContain(names.stateMachineLogGroupName);
  });

  it("runs as a role that may invoke exactly the four task functions", () => {
    const context = synthContext();
    const role = one("aws:iam/role:Role", "ApprovalRole");
    const inline = role.inputs.inlinePolicies as { policy: string }[];
    expect(inline.map((p) => normalize(p.policy))).toEqual([normalize(stateMachinePolicy(context))]);
    expect(normalize(role.inputs.assumeRolePolicy)).toEqual(normalize(stateMachineTrustPolicy(context)));
  });
});

describe("the synthesized operator rollback role", () => {
  it("holds exactly the rollback document, assumed by this deployment's tagged operators", () => {
    const context = synthContext();
    const role = one("aws:iam/role:Role", "RollbackRole");
    expect(role.inputs.name).toBe(names.rollbackRoleName);
    expect(role.inputs.maxSessionDuration).toBe(3600);
    const inline = role.inputs.inlinePolicies as { policy: string }[];
    expect(inline.map((p) => normalize(p.policy))).toEqual([normalize(rollbackRolePolicy(context))]);
    expect(normalize(role.inputs.assumeRolePolicy)).toEqual(
      normalize(rollbackTrustPolicy(context, { principalArns: [], tagValue: names.prefix })),
    );
    expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
  });

  it("is the only role that may re-open what a remediation closed", () => {
    const reopening = ["eks:AssociateAccessPolicy", "eks:CreateAccessEntry"];
    type Statement = { Action: string | string[]; Condition?: { StringEquals?: Record<string, string[]> } };
    // revoke-access narrows a grant back with AssociateAccessPolicy, at namespace scope only: that cannot re-open a
    // cluster-wide grant, so it is not counted (test/unit/infra/iam.test.ts simulates both).
    const namespaceOnly = (st: Statement) => st.Condition?.StringEquals?.["eks:accessScope"]?.join() === "namespace";
    for (const role of ofType("aws:iam/role:Role")) {
      const inline = (role.inputs.inlinePolicies as { policy: string }[] | undefined) ?? [];
      const statements = inline.flatMap((p) => (JSON.parse(p.policy) as { Statement: Statement[] }).Statement);
      const actions = statements.filter((st) => !namespaceOnly(st)).flatMap((st) => st.Action);
      const found = actions.filter((a) => reopening.includes(a));
      expect(found, role.name).toEqual(role.name === "RollbackRole" ? reopening : []);
    }
  });
});

describe("the synthesized storage, parameters, topic and alarms", () => {
  it("mirror tableDefinition() in the table, with deletion protection for prod", () => {
    expect(one("aws:dynamodb/table:Table", "Table").inputs).toEqual(tableArgs(names.tableName, true));
  });

  it("create the policy parameter from the policy file and the kill switch off", () => {
    const policy = one("aws:ssm/parameter:Parameter", "Policy").inputs;
    expect(policy).toMatchObject({ name: names.parameterNames.policy, type: "String", tier: "Standard" });
    const file = existsSync(join(ROOT, "eks-responder.policy.json"))
      ? "eks-responder.policy.json"
      : "examples/policy.json";
    expect(JSON.parse(str(policy.value))).toEqual(JSON.parse(readFileSync(join(ROOT, file), "utf8")));
    expect(one("aws:ssm/parameter:Parameter", "KillSwitch").inputs).toMatchObject({
      name: names.parameterNames.killSwitch,
      type: "String",
      value: "off",
    });
  });

  it("encrypt the topic with a dedicated, rotated key CloudWatch alarms may use", () => {
    const context = synthContext();
    const key = one("aws:kms/key:Key", "TopicKey").inputs;
    expect(key.enableKeyRotation).toBe(true);
    expect(JSON.parse(str(key.policy))).toEqual(topicKeyPolicy("aws", ACCOUNT));
    expect(one("aws:sns/topic:Topic", "Alerts").inputs.kmsMasterKeyId).toBe(context.topicKeyArn);
    expect(one("aws:sqs/queue:Queue", "DeadLetterQueue").inputs).toMatchObject({ sqsManagedSseEnabled: true });
  });

  it("send approval links through their own topic: one email subscription per approver, filtered to that approver", () => {
    const context = synthContext();
    const approvers = SYNTH_APPROVER_EMAILS.split(",");
    const topic = one("aws:sns/topic:Topic", "Approvals").inputs;
    expect(topic).toEqual({ name: names.approvalsTopicName, kmsMasterKeyId: context.topicKeyArn });
    expect(context.approvalsTopicArn).toBe(`arn:aws:sns:${REGION}:${ACCOUNT}:${names.approvalsTopicName}`);
    expect(context.approvalsTopicArn).not.toBe(context.topicArn);
    // The topic policy lets only the approvers' addresses subscribe (evaluated in approvals-policy.test.ts).
    const policy = one("aws:sns/topicPolicy:TopicPolicy", "ApprovalsPolicy").inputs;
    expect(policy.arn).toBe(context.approvalsTopicArn);
    expect(JSON.parse(str(policy.policy))).toEqual(approvalsTopicPolicy(context.approvalsTopicArn, approvers));
    const subscriptions = ofType("aws:sns/topicSubscription:TopicSubscription").filter(
      (s) => s.inputs.topic === context.approvalsTopicArn,
    );
    expect(subscriptions.map((s) => s.inputs)).toEqual(
      approvers.map((email) => ({
        topic: context.approvalsTopicArn,
        protocol: "email",
        endpoint: email,
        filterPolicy: JSON.stringify(approverFilterPolicy(email)),
        filterPolicyScope: "MessageAttributes",
      })),
    );
    // The request function publishes there, to exactly these approvers, and may not publish to the alerts topic.
    const request = record(record(functionResource("approval-request").inputs.environment).variables);
    expect(request.APPROVALS_TOPIC_ARN).toBe(context.approvalsTopicArn);
    expect(request.APPROVER_EMAILS).toBe(approvers.join(","));
    const requestPolicy = JSON.stringify(functionPolicy("approval-request", context));
    expect(requestPolicy).toContain(context.approvalsTopicArn);
    expect(requestPolicy).not.toContain(`"${context.topicArn}"`);
  });

  it("alarm to the topic on a non-empty dead-letter queue, respond errors, failed approvals and failed notifications", () => {
    const context = synthContext();
    const alarms = Object.fromEntries(
      ofType("aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => [
        `${str(a.inputs.namespace)} ${str(a.inputs.metricName)}`,
        a.inputs,
      ]),
    );
    const notificationsFailed = `eks-responder ${names.prefix}-notifications-failed`;
    expect(Object.keys(alarms).sort()).toEqual([
      "AWS/Lambda Errors",
      "AWS/SQS ApproximateNumberOfMessagesVisible",
      "AWS/States ExecutionsFailed",
      notificationsFailed,
    ]);
    for (const alarm of Object.values(alarms)) {
      expect(alarm).toMatchObject({
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        alarmActions: [context.topicArn],
      });
    }
    expect(alarms["AWS/SQS ApproximateNumberOfMessagesVisible"]?.dimensions).toEqual({
      QueueName: names.deadLetterQueueName,
    });
    expect(alarms["AWS/Lambda Errors"]?.dimensions).toEqual({ FunctionName: names.functionNames.respond });
    expect(alarms["AWS/States ExecutionsFailed"]?.dimensions).toEqual({ StateMachineArn: context.stateMachineArn });
    // The notification alarm counts the respond function's "notification failed" log lines, in its own log group.
    const filters = ofType("aws:cloudwatch/logMetricFilter:LogMetricFilter");
    expect(filters.map((f) => f.inputs)).toEqual([
      expect.objectContaining({
        logGroupName: `/aws/lambda/${names.functionNames.respond}`,
        pattern: `{ $.message = "${NOTIFICATION_FAILED_MESSAGE}" }`,
        metricTransformation: expect.objectContaining({
          name: `${names.prefix}-notifications-failed`,
          namespace: "eks-responder",
          value: "1",
        }),
      }),
    ]);
  });

  it("grant no wildcard action in any policy the stack writes", () => {
    const policies = resources.flatMap((r) => {
      const inline = Array.isArray(r.inputs.inlinePolicies) ? (r.inputs.inlinePolicies as { policy: string }[]) : [];
      return inline.map((p) => JSON.parse(p.policy) as { Statement: { Action: string | string[] }[] });
    });
    // The functions' roles, the state machine's and the rollback role.
    expect(policies.length).toBe(FUNCTION_IDS.length + 2);
    for (const policy of policies) {
      for (const s of policy.Statement) {
        for (const action of [s.Action].flat()) expect(action).not.toMatch(/\*/);
      }
    }
  });
});

describe("the synthesized dashboard", () => {
  it("graphs every metric the functions emit, each widget a SEARCH of a catalogue metric in its namespace and dimensions", () => {
    const [dashboard, ...more] = ofType("aws:cloudwatch/dashboard:Dashboard");
    expect(more).toEqual([]);
    expect(dashboard?.inputs.dashboardName).toBe(`${names.prefix}-numbers`);
    const body = JSON.parse(str(dashboard?.inputs.dashboardBody)) as {
      widgets: { type: string; properties: { region: string; metrics: { expression: string }[][] } }[];
    };
    const expressions = body.widgets.flatMap((w) => {
      expect([w.type, w.properties.region]).toEqual(["metric", REGION]);
      return w.properties.metrics.map(([m]) => str(m?.expression));
    });
    // Every expression names a metric of the catalogue (which the EMF test shows the functions print) with exactly
    // its dimensions, and every catalogue metric is graphed.
    const named = expressions.map((e) => {
      const match = /^SEARCH\('\{EksResponder,service(,[^}]*)?\} MetricName="(\w+)"', '(\w+)', 300\)$/.exec(e);
      const metric = Object.entries(METRICS).find(([, m]) => m.name === match?.[2]);
      expect(metric, e).toBeDefined();
      const [key] = metric ?? ["eventsReceived"];
      expect(e).toBe(searchOf(key as keyof typeof METRICS, match?.[3] ?? ""));
      return key;
    });
    expect(new Set(named)).toEqual(new Set(Object.keys(METRICS)));
    expect(expressions).toContain(`SEARCH('{EksResponder,service,detector} MetricName="TimeToRemediate"', 'p95', 300)`);
  });
});

describe("the synthesized Kubernetes access", () => {
  const env = {
    EKS_RESPONDER_KUBERNETES_CLUSTERS: "prod-eks, edge_eks,prod-eks",
    EKS_RESPONDER_KUBERNETES_GROUP: "platform:responders",
    EKS_RESPONDER_VPC_SUBNET_IDS: "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
    EKS_RESPONDER_VPC_SECURITY_GROUP_IDS: "sg-0123456789abcdef0",
  };
  const configured = settings("eks-responder", "prod", env);
  let withKubernetes: Resource[] = [];
  const kubernetesFunctions: FunctionId[] = ["respond", "approval-apply"];

  beforeAll(() => {
    const dir = synthesize(env);
    withKubernetes = JSON.parse(readFileSync(join(dir, "resources.json"), "utf8")) as Resource[];
  }, 120_000);

  it("is absent by default: no access entry, no function in a VPC", () => {
    expect(ofType("aws:eks/accessEntry:AccessEntry")).toEqual([]);
    for (const id of FUNCTION_IDS) expect(functionResource(id).inputs.vpcConfig, id).toBeUndefined();
    const statements = JSON.stringify(functionPolicy("respond", synthContext()));
    expect(statements).not.toContain("KubernetesClusterEndpoints");
    expect(statements).not.toContain("ec2:CreateNetworkInterface");
  });

  it("gives each configured cluster a STANDARD access entry per Kubernetes function role, with the group and no access policy", () => {
    const entries = ofType("aws:eks/accessEntry:AccessEntry", withKubernetes).map((r) => r.inputs);
    const roleArn = (id: FunctionId) => `arn:aws:iam::${ACCOUNT}:role/${configured.functionRoleNames[id]}`;
    expect(entries).toEqual(
      expect.arrayContaining(
        ["prod-eks", "edge_eks"].flatMap((cluster) =>
          kubernetesFunctions.map((id) => ({
            clusterName: cluster,
            principalArn: roleArn(id),
            kubernetesGroups: ["platform:responders"],
            type: "STANDARD",
          })),
        ),
      ),
    );
    expect(entries).toHaveLength(4);
    // The entries name the roles the synth created for these functions (the deploy orders them after the roles).
    for (const id of kubernetesFunctions) {
      const role = roleOf(functionResource(id, withKubernetes), withKubernetes);
      expect(roleArn(id)).toBe(`arn:aws:iam::${ACCOUNT}:role/${str(role.inputs.name)}`);
    }
    expect(ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", withKubernetes)).toEqual([]);
  });

  it("runs exactly the Kubernetes functions in the VPC, their roles holding the iam.ts document with the VPC's interface permissions", () => {
    const context = synthContext(withKubernetes, configured);
    expect(context.kubernetesClusters).toEqual(["prod-eks", "edge_eks"]);
    for (const id of FUNCTION_IDS) {
      const fn = functionResource(id, withKubernetes);
      expect(fn.inputs.vpcConfig, id).toEqual(
        kubernetesFunctions.includes(id)
          ? { subnetIds: configured.vpc?.subnetIds, securityGroupIds: configured.vpc?.securityGroupIds }
          : undefined,
      );
      // Told so, the function reaches private-only cluster endpoints (packages/functions/src/config.ts).
      const env = (fn.inputs.environment as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
      expect(env.KUBERNETES_IN_VPC, id).toBe(kubernetesFunctions.includes(id) ? "true" : undefined);
      const role = roleOf(fn, withKubernetes);
      const inline = role.inputs.inlinePolicies as { policy: string }[];
      expect(normalize(inline[0]?.policy), id).toEqual(normalize(functionPolicy(id, context)));
      // SST attaches AWSLambdaVPCAccessExecutionRole to a function in a VPC; functions.ts removes it.
      expect(role.inputs.managedPolicyArns, id).toEqual([]);
      const document = JSON.stringify(functionPolicy(id, context));
      expect(document.includes("ec2:CreateNetworkInterface"), id).toBe(kubernetesFunctions.includes(id));
      expect(document.includes("KubernetesClusterEndpoints"), id).toBe(kubernetesFunctions.includes(id));
    }
  });
});

describe("docs/deploy.md", () => {
  it("lists exactly the resources the synth creates (refresh with `npm run synth -- --docs`)", () => {
    const docs = readFileSync(join(ROOT, "docs", "deploy.md"), "utf8");
    // Compared without the table's padding, which the Markdown formatter owns.
    const cells = (markdown: string) => markdown.replace(/ *\| */g, "|").replace(/-{3,}/g, "---");
    expect(cells(withResourceTable(docs, resourceTable(resources)))).toBe(cells(docs));
  });
});
