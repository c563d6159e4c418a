import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ec2OpenIngress } from "../../../packages/core/src/detectors/ec2-open-ingress.detector.ts";
import {
  createAwsClients,
  parsePolicy,
  type RespondResult,
  respond,
  slackMessage,
  snsMessage,
  toAuditEntries,
} from "../../../packages/core/src/index.ts";
import { liveGroups } from "../../helpers/ec2-groups.ts";
import { ec2Error } from "../actions/apply/helpers.ts";

const ROOT = join(import.meta.dirname, "../../..");
const SSH_OPEN = JSON.parse(
  readFileSync(join(ROOT, "examples/events/ct-01-ec2-authorize-sg-ingress-ssh-ipv4-open-REAL.json"), "utf8"),
) as unknown;
const GROUP = "sg-0632fa4ee8a8468a4";
const OTHER = "sg-0b1c2d3e4f5a6b7c8";
const TABLE = "eks-responder-prod";
const ec2 = mockClient(EC2Client);

beforeEach(() => {
  ec2.reset();
  ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups());
  // The event's own group: revoked (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html)
  ec2.on(RevokeSecurityGroupIngressCommand, { GroupId: GROUP }).resolves({ Return: true });
  // The second action's group: refused for good, UnauthorizedOperation (403)
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html)
  ec2.on(RevokeSecurityGroupIngressCommand, { GroupId: OTHER }).rejects(ec2Error("UnauthorizedOperation", 403));
  // A playbook of two actions (the Kubernetes-side playbooks will have several): the detector's own plan, then a
  // second revoke on another group.
  const detect = ec2OpenIngress.detect.bind(ec2OpenIngress);
  vi.spyOn(ec2OpenIngress, "detect").mockImplementation((signal, settings, context) =>
    detect(signal, settings, context).map((a) => ({
      ...a,
      actions: [
        ...a.actions,
        {
          action: "ec2:revoke-ingress",
          params: {
            groupId: OTHER,
            ruleIds: ["sgr-0000000000000000b"],
            rules: [
              { ruleId: "sgr-0000000000000000b", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
            ],
          },
        },
      ],
    })),
  );
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("respond with a playbook whose second action fails", () => {
  it("undoes nothing (the respond role holds no rollback right), and audits and notifies what stays applied", async () => {
    // prepare
    const records: RespondResult[] = [];
    const notified: RespondResult[] = [];

    // act
    const result = await respond(SSH_OPEN, {
      policy: parsePolicy({ dryRun: false, exemptions: { tags: [] } }),
      clients: (region) => createAwsClients(region),
      sleep: async () => {},
      record: async (r) => void records.push(structuredClone(r)),
      notify: async (r) => void notified.push(r),
      auditTable: TABLE,
    });

    // assess: the outcome
    const id = result.assessments[0]?.id ?? "";
    const notice =
      "PLAN HALF DONE: ec2:revoke-ingress failed; still applied: ec2:revoke-ingress (not undone: no rollback permission in this role (rollback is the operator's)); " +
      `undo with: eks-responder rollback ${id} --table ${TABLE}`;
    expect(result.outcome).toBe("failed");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(0);
    const outcomes = result.applied[0]?.outcomes ?? [];
    expect(outcomes.map((o) => [o.params.groupId, o.status, o.undone?.status])).toEqual([
      [GROUP, "applied", "refused"],
      [OTHER, "failed", undefined],
    ]);
    expect(result.reason).toBe(
      `${notice}; ec2:revoke-ingress failed: UnauthorizedOperation: UnauthorizedOperation (test)`,
    );
    expect(result.decisions[0]?.reasons.at(-1)).toBe(notice);

    // assess: the audit record keeps the outcomes (with the undo of the one still applied) and the notice
    expect(records).toHaveLength(1);
    const [entry] = toAuditEntries(must(records[0]));
    expect(entry?.outcome).toBe("failed");
    expect(entry?.reasons.at(-1)).toBe(notice);
    expect(entry?.results?.[0]?.undo).toEqual(outcomes[0]?.undo);
    expect(entry?.results?.[0]?.undone?.status).toBe("refused");

    // assess: both notifications say it, in the outcome line and in the decision's reasons
    const sns = snsMessage(must(notified[0])).Message;
    expect(sns).toContain(`\nOutcome: failed: ${notice}; ec2:revoke-ingress failed: `);
    expect(sns).toContain(`\n    - ${notice}\n`);
    expect(sns.split("\n")[0]).toBe("eks-responder: HIGH, FIX FAILED");
    const slack = JSON.stringify(slackMessage(must(notified[0])).blocks);
    // Slack's mrkdwn escapes only &, < and > (https://api.slack.com/reference/surfaces/formatting#escaping)
    expect(slack).toContain(JSON.stringify(`• ${notice}`).slice(1, -1));
    expect(slack).toContain(JSON.stringify(`*Outcome:* fix failed: ${notice}`).slice(1, -1));
  });
});

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("expected a value");
  return value;
}
