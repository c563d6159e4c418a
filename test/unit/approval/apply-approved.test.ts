/**
 * The approval's Apply task (approval/tasks.ts applyApproved): an approved plan is carried out with the Apply task's
 * own time (an EKS update in progress is followed for minutes, not handed back after respond's 30 s) and with who
 * approved it (what a disruptive step needs).
 */
import {
  DescribeClusterCommand,
  DescribeUpdateCommand,
  EKSClient,
  UpdateClusterConfigCommand,
} from "@aws-sdk/client-eks";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { UPDATE_POLL_MS } from "../../../packages/core/src/actions/eks-calls.ts";
import { applyApproved } from "../../../packages/core/src/approval/tasks.ts";
import type { Assessment } from "../../../packages/core/src/detectors/types.ts";
import { createAwsClients } from "../../../packages/core/src/index.ts";
import { update } from "../actions/apply/eks-update-answers.ts";

const eks = mockClient(EKSClient);
const CLUSTER = "prod-eks";

const assessment: Assessment = {
  id: "asm-00000000000000000042",
  detectorId: "eks-logging-disabled",
  severity: "medium",
  title: "Control-plane logging turned off on prod-eks",
  account: "111122223333",
  region: "eu-west-1",
  cluster: CLUSTER,
  resources: {},
  evidence: [],
  actions: [{ action: "eks:enable-logging", params: { clusterName: CLUSTER, logTypes: ["audit"] } }],
  notes: [],
  doubts: [],
  subject: {},
};

beforeEach(() => {
  eks.reset();
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeCluster.html: logging.clusterLogging
  eks
    .on(DescribeClusterCommand)
    .resolves({ cluster: { name: CLUSTER, logging: { clusterLogging: [{ types: ["audit"], enabled: false }] } } });
  // https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateClusterConfig.html and API_DescribeUpdate.html
  eks.on(UpdateClusterConfigCommand).resolves({ update: update("upd-9", "LoggingUpdate", "InProgress") });
});
afterAll(() => {
  eks.restore();
});

describe("applyApproved", () => {
  it("follows an EKS update for minutes, past respond's 30 s budget, until it succeeds", async () => {
    // prepare: the update stays InProgress for 12 polls (60 s), then succeeds
    const describe = eks.on(DescribeUpdateCommand);
    for (let i = 0; i < 12; i++) describe.resolvesOnce({ update: update("upd-9", "LoggingUpdate", "InProgress") });
    describe.resolves({ update: update("upd-9", "LoggingUpdate", "Successful") });
    const waits: number[] = [];

    // act
    const result = await applyApproved(
      { assessment },
      {
        clients: (region) => createAwsClients(region),
        sleep: async (ms) => {
          waits.push(ms);
        },
        exemptTags: [],
        approvedBy: "email:alice@example.com",
      },
    );

    // assess
    expect(result.outcomes.map((o) => o.status)).toEqual(["applied"]);
    expect(waits.reduce((a, b) => a + b, 0)).toBe(13 * UPDATE_POLL_MS);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThan(30_000);
  });
});
