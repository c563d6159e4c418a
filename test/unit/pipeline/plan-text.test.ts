import { describe, expect, it } from "vitest";
import { callsPhrase, countsPhrase } from "../../../packages/core/src/pipeline/plan-text.ts";

describe("callsPhrase", () => {
  it("names the plane of every call", () => {
    expect(callsPhrase([{ service: "ec2" }])).toBe("1 AWS call");
    expect(callsPhrase([{ service: "kubernetes" }, { service: "kubernetes" }])).toBe("2 Kubernetes calls");
    expect(callsPhrase([{ service: "kubernetes" }, { service: "ec2" }, { service: "autoscaling" }])).toBe(
      "3 calls (2 AWS, 1 Kubernetes)",
    );
    expect(callsPhrase([])).toBe("0 AWS calls");
    expect(countsPhrase(6, 22, "planned ")).toBe("28 planned calls (6 AWS, 22 Kubernetes)");
  });
});
