import { describe, expect, it } from "vitest";
import { ec2TagRecord } from "../../../packages/core/src/actions/ec2-tags.ts";

describe("ec2TagRecord", () => {
  it("turns EC2's tag list into a record, skipping an entry without a key and reading a missing value as empty", () => {
    // act
    const tags = ec2TagRecord([
      { Key: "eks-responder:exempt", Value: "true" },
      { Value: "no key" },
      { Key: "team" },
      { Key: "", Value: "empty key" },
    ]);

    // assess
    expect(tags).toEqual({ "eks-responder:exempt": "true", team: "" });
    expect(ec2TagRecord(undefined)).toEqual({});
  });
});
