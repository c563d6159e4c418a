import { partition } from "@aws-sdk/core/client";
import { describe, expect, it } from "vitest";
import { ARN_PARTITION, REGION_PATTERN, withoutPartition } from "../../../packages/core/src/aws/partitions.ts";
import { PolicyError, parseEvent, parsePolicy, processEvent } from "../../../packages/core/src/index.ts";
import { fixtureText, must } from "../../helpers/fixtures.ts";

/**
 * One Region of every partition, with the partition its ARNs name. From the AWS Regions page
 * (https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html) and the SDK's partition table,
 * which the first test asks, so a wrong pair here fails.
 */
const REGIONS: [string, string][] = [
  ["eu-west-1", "aws"],
  ["mx-central-1", "aws"],
  ["cn-north-1", "aws-cn"],
  ["cn-northwest-1", "aws-cn"],
  ["us-gov-west-1", "aws-us-gov"],
  ["us-iso-east-1", "aws-iso"],
  ["us-isob-east-1", "aws-iso-b"],
  ["us-isof-south-1", "aws-iso-f"],
  ["eu-isoe-west-1", "aws-iso-e"],
  ["eusc-de-east-1", "aws-eusc"],
];

const ADMIN = "cloudtrail/associate-access-policy/cluster-admin-plain-arn.json";

/** The fixture moved to another Region and partition: every Region code and every `arn:aws:` rewritten. */
function movedTo(relPath: string, region: string, arnPartition: string): unknown {
  const text = fixtureText(relPath)
    .replaceAll('"eu-west-1"', `"${region}"`)
    .replaceAll("arn:aws:", `arn:${arnPartition}:`);
  return JSON.parse(text);
}

describe("AWS partitions (aws/partitions.ts)", () => {
  it.each(REGIONS)("knows %s as a Region of %s, as the SDK's partition table does", (region, name) => {
    // act
    const sdk = partition(region);

    // assess
    expect(sdk.name).toBe(name);
    expect(REGION_PATTERN.test(region)).toBe(true);
    expect(new RegExp(`^${ARN_PARTITION}$`).test(name)).toBe(true);
  });

  it.each(["eu-west", "EU-WEST-1", "eu_west_1", "1-eu-west", "eu-west-1a", "averylongarea-west-1", ""])(
    "refuses %j as a Region code",
    (region) => {
      // act
      const matches = REGION_PATTERN.test(region);

      // assess
      expect(matches).toBe(false);
    },
  );

  it("compares ARNs of AWS-managed resources across partitions", () => {
    // act
    const cn = withoutPartition("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
    const isob = withoutPartition("arn:aws-iso-b:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");

    // assess
    expect(cn).toBe("arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
    expect(isob).toBe(cn);
    expect(withoutPartition("arn:awsx:eks::aws:x")).toBe("arn:awsx:eks::aws:x");
  });

  it.each(REGIONS)("reads an event from %s (ARNs in %s) and revokes the cluster-admin grant", (region, name) => {
    // prepare
    const event = movedTo(ADMIN, region, name);

    // act
    const parsed = parseEvent(event);
    const result = processEvent(event, parsePolicy({ scope: { regions: [region] } }));

    // assess
    expect(parsed.status).toBe("signal");
    expect(result.signal?.region).toBe(region);
    const assessment = must(result.assessments.find((a) => a.detectorId === "eks-cluster-admin-granted"));
    expect(assessment.region).toBe(region);
    expect(assessment.resources.principalArn).toBe(`arn:${name}:iam::111122223333:role/contractor-admin`);
    expect(result.outcome).toBe("dry-run");
    expect(result.plan.map((p) => p.operation)).toContain("DisassociateAccessPolicy");
  });

  it("scopes by a Region of another partition: an event elsewhere is out of scope", () => {
    // prepare
    const event = movedTo(ADMIN, "cn-north-1", "aws-cn");

    // act
    const result = processEvent(event, parsePolicy({ scope: { regions: ["eusc-de-east-1", "us-gov-west-1"] } }));

    // assess
    expect(result.skipped).toBe("out-of-scope");
    expect(must(result.decisions[0]).reasons).toEqual(["region cn-north-1 is outside the policy's scope"]);
  });

  it("accepts an SNS topic of GovCloud in a notification route, and still refuses a malformed Region", () => {
    // act
    const policy = parsePolicy({
      notify: { routes: [{ name: "gov", sns: { topicArn: "arn:aws-us-gov:sns:us-gov-west-1:111122223333:alerts" } }] },
    });
    const bad = () => parsePolicy({ scope: { regions: ["eusc-de-east"] } });

    // assess
    expect(must(policy.notify.routes[0]).sns?.topicArn).toContain("aws-us-gov");
    expect(bad).toThrow(PolicyError);
    expect(bad).toThrow(/scope\.regions\[0\]/);
  });

  it("refuses a CloudTrail record whose awsRegion is not a Region code, naming the path", () => {
    // prepare
    const event = JSON.parse(fixtureText(ADMIN).replace('"awsRegion": "eu-west-1"', '"awsRegion": "<script>"'));

    // act
    const result = processEvent(event, parsePolicy({}));

    // assess
    expect(result.outcome).toBe("invalid");
    expect(result.error?.issues.map((i) => i.path)).toEqual(["detail.awsRegion"]);
    expect(result.plan).toEqual([]);
  });
});
