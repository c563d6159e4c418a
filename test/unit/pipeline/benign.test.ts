import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPolicyFile, processEvent } from "../../../packages/core/src/index.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures");

/** Benign events: each must plan no action, and say why. */
const BENIGN: [file: string, skipped: string, reason: RegExp][] = [
  ["cloudtrail/authorize-security-group-ingress/single-host-32-ssh.json", "no-finding", /nothing wrong/],
  ["cloudtrail/authorize-security-group-ingress/sg-reference-postgres.json", "no-finding", /nothing wrong/],
  ["cloudtrail/authorize-security-group-ingress/prefix-list-https.json", "no-finding", /nothing wrong/],
  ["cloudtrail/authorize-security-group-ingress/failed-duplicate.json", "failed-call", /call failed .*nothing changed/],
  [
    "cloudtrail/authorize-security-group-ingress/failed-unauthorized-world.json",
    "failed-call",
    /UnauthorizedOperation/,
  ],
  ["cloudtrail/modify-security-group-rules/private-cidr-benign.json", "no-finding", /nothing wrong/],
  ["cloudtrail/update-cluster-config/private-endpoint.json", "no-finding", /nothing wrong/],
  ["cloudtrail/update-cluster-config/public-restricted-cidr.json", "no-finding", /nothing wrong/],
  ["cloudtrail/update-cluster-config/logging-enabled-all.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-cluster/private-encrypted.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-access-entry/custom-group.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-access-entry/no-groups.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-access-entry/system-masters-rejected.json", "failed-call", /InvalidParameterException/],
  ["cloudtrail/associate-access-policy/view-policy.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-nodegroup/ssh-key-with-source-sg.json", "no-finding", /nothing wrong/],
  ["cloudtrail/create-nodegroup/no-remote-access.json", "no-finding", /nothing wrong/],
  [
    "guardduty/unauthorizedaccess-ec2-sshbruteforce/non-eks-instance.json",
    "no-finding",
    /not an EKS cluster or a known EKS node/,
  ],
  [
    "guardduty/policy-s3-bucketblockpublicaccessdisabled/bucket-bpa-disabled.json",
    "no-finding",
    /resource type S3Bucket, which is not an EKS/,
  ],
  [
    "guardduty/cryptocurrency-runtime-bitcointool-b-dns/standalone-docker-container-not-eks.json",
    "no-finding",
    /resource type Container, which is not an EKS/,
  ],
];

describe("benign events", () => {
  it.each(BENIGN)("%s plans no action (%s)", async (file, skipped, reason) => {
    // prepare: the example policy, which acts automatically where it can
    const policy = await loadPolicyFile(join(import.meta.dirname, "../../../examples/policy.json"));
    // act
    const result = processEvent(readFileSync(join(FIXTURES, file), "utf8"), policy);
    // assess
    expect(result.outcome).toBe("skipped");
    expect(result.skipped).toBe(skipped);
    expect(result.reason).toMatch(reason);
    expect(result.plan).toEqual([]);
    expect(result.assessments).toEqual([]);
  });
});
