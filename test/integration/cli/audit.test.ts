import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDuration } from "../../../packages/cli/src/audit.ts";
import { main } from "../../../packages/cli/src/main.ts";
import { recordAudit } from "../../../packages/core/src/index.ts";
import { captureIo } from "../../helpers/cli-io.ts";
import { type LocalDynamo, startDynalite } from "../../helpers/dynalite.ts";

let dynamo: LocalDynamo;
let table: string;
const saved = { ...process.env };

function capture() {
  return captureIo({ EKS_RESPONDER_STATE_DIR: mkdtempSync(join(tmpdir(), "eks-audit-")) });
}

function entry(id: string, cluster: string, recordedAt: string) {
  return {
    assessmentId: id,
    eventId: `ct:${id}`,
    detectorId: "ec2-open-ingress",
    cluster,
    account: "111122223333",
    region: "eu-west-1",
    severity: "high" as const,
    mode: "auto" as const,
    outcome: "applied" as const,
    reasons: ["mode auto"],
    plan: [],
    results: [
      { action: "ec2:revoke-ingress", status: "applied" as const, reason: "revoked", calls: [], before: { rules: [] } },
    ],
    recordedAt,
  };
}

beforeAll(async () => {
  dynamo = await startDynalite();
  table = await dynamo.createTable();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ACCESS_KEY_ID: "AKIDTEST",
    AWS_SECRET_ACCESS_KEY: "x",
  });
  const now = Date.now();
  await recordAudit(
    dynamo.docClient,
    table,
    entry("asm-00000000000000000001", "prod-eks", new Date(now - 3 * 86_400_000).toISOString()),
  );
  await recordAudit(
    dynamo.docClient,
    table,
    entry("asm-00000000000000000002", "prod-eks", new Date(now - 3_600_000).toISOString()),
  );
  await recordAudit(
    dynamo.docClient,
    table,
    entry("asm-00000000000000000003", "staging", new Date(now - 60_000).toISOString()),
  );
});
afterAll(async () => {
  await dynamo.stop();
  process.env = saved;
});

describe("eks-responder audit", () => {
  it("lists the deployment's audit newest first, filtered by --since and --cluster", async () => {
    const c = capture();
    expect(await main(["audit", "--table", table, "--region", "eu-west-1", "--since", "24h", "--json"], c.io)).toBe(0);
    const ids = (JSON.parse(c.out()) as { records: { assessmentId: string }[] }).records.map((r) => r.assessmentId);
    expect(ids).toEqual(["asm-00000000000000000003", "asm-00000000000000000002"]);
    const byCluster = capture();
    expect(
      await main(["audit", "--table", table, "--region", "eu-west-1", "--cluster", "prod-eks"], byCluster.io),
    ).toBe(0);
    expect(byCluster.out()).toContain("asm-00000000000000000001");
    expect(byCluster.out()).not.toContain("asm-00000000000000000003");
    expect(byCluster.out()).toContain("ec2:revoke-ingress applied");
  });

  it("refuses a --since that is not a duration", async () => {
    const c = capture();
    expect(await main(["audit", "--since", "yesterday"], c.io)).toBe(2);
    expect(c.err()).toContain('--since "yesterday" is not a duration');
  });

  it("reads the local journal without --table", async () => {
    const c = capture();
    expect(await main(["audit"], c.io)).toBe(0);
    expect(c.out()).toBe("no records\n");
  });
});

describe("parseDuration", () => {
  it("reads s, m, h, d and w, and nothing else", () => {
    expect(parseDuration("30m")).toBe(1_800_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("2w")).toBe(1_209_600_000);
    expect(parseDuration("1y")).toBeUndefined();
    expect(parseDuration("-1h")).toBeUndefined();
  });
});

describe("eks-responder rollback --table", () => {
  it("undoes an outcome recorded in the deployment's audit, records the rollback, and refuses a second one", async () => {
    const { EC2Client, AuthorizeSecurityGroupIngressCommand } = await import("@aws-sdk/client-ec2");
    const { mockClient } = await import("aws-sdk-client-mock");
    const ec2 = mockClient(EC2Client);
    ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const id = "asm-000000000000000000aa";
    await recordAudit(dynamo.docClient, table, {
      ...entry(id, "prod-eks", new Date().toISOString()),
      results: [
        {
          action: "ec2:revoke-ingress",
          status: "applied",
          reason: "revoked sgr-09be5c962afdc06ed",
          calls: [],
          undo: {
            groupId: "sg-0632fa4ee8a8468a4",
            rules: [
              { ruleId: "sgr-09be5c962afdc06ed", protocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
            ],
          },
        },
      ],
    });
    const c = capture();
    expect(await main(["rollback", "--yes", "--table", table, "--region", "eu-west-1", id], c.io)).toBe(0);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]?.args[0].input).toEqual({
      GroupId: "sg-0632fa4ee8a8468a4",
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    });
    const again = capture();
    expect(await main(["rollback", "--yes", "--table", table, "--region", "eu-west-1", id], again.io)).toBe(2);
    expect(again.err()).toContain("was already rolled back");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
    ec2.restore();
  });
});
