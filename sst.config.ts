/// <reference path="./.sst/platform/config.d.ts" />

// Wiring only: every resource is created in infra/, imported inside run() (SST refuses top-level imports here).
// Deploy and configuration: docs/deploy.md.
export default $config({
  app(input) {
    const stage = input?.stage ?? "";
    return {
      name: "eks-responder",
      home: "aws",
      // prod and production keep their table (audit trail) on `sst remove`; other stages are removed entirely.
      removal: ["prod", "production"].includes(stage) ? "retain" : "remove",
      providers: { aws: { region: process.env.EKS_RESPONDER_REGION || "eu-west-1" } },
    };
  },
  async run() {
    const { settings } = await import("./infra/naming.ts");
    const { deploymentContext } = await import("./infra/context.ts");
    const { iamContext } = await import("./infra/iam.ts");
    const { createTable } = await import("./infra/table.ts");
    const { createApprovalsTopic, createTopic } = await import("./infra/topic.ts");
    const { createDeadLetterQueue } = await import("./infra/queue.ts");
    const { createParameters } = await import("./infra/parameters.ts");
    const { createFunction } = await import("./infra/functions.ts");
    const { createApprovalMachine } = await import("./infra/approval-machine.ts");
    const { createEventDelivery } = await import("./infra/rules.ts");
    const { createAlarms } = await import("./infra/alarms.ts");
    const { createDigestSchedule } = await import("./infra/schedule.ts");
    const { createRollbackRole } = await import("./infra/rollback-role.ts");
    const { createAccessEntries } = await import("./infra/kubernetes.ts");

    const { createMemberStack, createMemberStackSet, createOrganizationBus } = await import("./infra/organization.ts");

    const config = settings($app.name, $app.stage, process.env);
    // Member mode: only the member template, as one stack (docs/deploy.md, "Organization: hub and member").
    if (config.deployment === "member") {
      const stack = createMemberStack(config);
      return { memberStackId: stack.id };
    }
    const context = deploymentContext();
    const table = createTable(config);
    const { topic, key } = createTopic(config, context);
    const approvalsTopic = createApprovalsTopic(config, key);
    const deadLetterQueue = createDeadLetterQueue(config);
    const parameters = createParameters(config);
    const iam = $resolve([
      context.partition,
      context.account,
      context.region,
      topic.arn,
      approvalsTopic.arn,
      key.arn,
      deadLetterQueue.arn,
    ]).apply(([partition, account, region, topicArn, approvalsTopicArn, topicKeyArn, deadLetterQueueArn]) =>
      iamContext({ partition, account, region, topicArn, approvalsTopicArn, topicKeyArn, deadLetterQueueArn }, config),
    );
    const deps = { settings: config, iam, tableName: table.name, topicArn: topic.arn };

    // Order follows the data: the callback URL goes into the request function, the task functions into the state
    // machine, the state machine into respond.
    const callback = createFunction("approval-callback", deps);
    const tasks = {
      // Function URLs end with "/"; links are built as `${APPROVAL_CALLBACK_URL}/approve?token=…`.
      // Signed links go to the approvals topic only, to the approvers it has a filtered subscription for.
      requestApproval: createFunction("approval-request", deps, {
        APPROVAL_CALLBACK_URL: callback.url.apply((url) => url.replace(/\/+$/, "")),
        APPROVALS_TOPIC_ARN: approvalsTopic.arn,
        APPROVER_EMAILS: config.approverEmails.join(","),
      }),
      apply: createFunction("approval-apply", deps),
      notify: createFunction("approval-notify", deps),
      record: createFunction("approval-record", deps),
    };
    const machine = createApprovalMachine(config, iam, tasks);
    const respond = createFunction("respond", deps, { STATE_MACHINE_ARN: machine.arn });
    // Hub mode: the organization bus gets the same rules, and the StackSet carries the member template.
    const organization = config.deployment === "hub" ? createOrganizationBus(config) : undefined;
    createEventDelivery(respond, deadLetterQueue, organization?.bus);
    if (organization) {
      const expected = config.organization?.hubAccount;
      const hubAccount = context.account.apply((account) => {
        if (expected !== undefined && expected !== account) {
          throw new Error(`EKS_RESPONDER_HUB_ACCOUNT is ${expected}, but the deploy runs in account ${account}`);
        }
        return account;
      });
      createMemberStackSet(config, hubAccount);
    }
    createDigestSchedule(createFunction("digest", deps));
    createAccessEntries(config, { respond, "approval-apply": tasks.apply });
    const rollbackRole = createRollbackRole(config, iam);
    createAlarms({
      prefix: config.prefix,
      topicArn: topic.arn,
      deadLetterQueueName: deadLetterQueue.name,
      respondFunctionName: respond.name,
      respondFunction: respond,
      stateMachineArn: machine.arn,
    });
    (await import("./infra/dashboard.ts")).createDashboard({ prefix: config.prefix, region: context.region });

    return {
      alertsTopicArn: topic.arn,
      approvalsTopicArn: approvalsTopic.arn,
      approvalCallbackUrl: callback.url,
      stateMachineArn: machine.arn,
      tableName: table.name,
      policyParameter: parameters.policy.name,
      killSwitchParameter: parameters.killSwitch.name,
      deadLetterQueueUrl: deadLetterQueue.url,
      rollbackRoleArn: rollbackRole.arn,
      ...(organization ? { organizationBusArn: organization.bus.arn } : {}),
    };
  },
});
