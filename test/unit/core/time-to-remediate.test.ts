import { describe, expect, it } from "vitest";
import { durationStats, nearestRank, remediationReport } from "../../../packages/core/src/metrics/time-to-remediate.ts";

describe("nearestRank", () => {
  it("takes the value at rank ⌈p/100 × N⌉ of the sorted values, never an interpolation", () => {
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(nearestRank(twenty, 50)).toBe(100); // rank 10
    expect(nearestRank(twenty, 95)).toBe(190); // rank 19
    expect(nearestRank(twenty, 100)).toBe(200);
    expect(nearestRank([7], 95)).toBe(7);
    expect(nearestRank([1, 2], 50)).toBe(1); // rank 1, where interpolation would give 1.5
    expect(nearestRank([], 50)).toBe(0);
    expect(durationStats([30, 10, 20])).toEqual({ count: 3, p50: 20, p95: 30, max: 30 });
  });
});

describe("remediationReport", () => {
  const base = { detectorId: "ec2-open-ingress", account: "111122223333" };
  it("counts each assessment once (its earliest applied record), skips clocks it cannot trust, and says what it could not measure", () => {
    const figures = remediationReport([
      {
        ...base,
        assessmentId: "a",
        outcome: "applied",
        eventTime: "2026-01-01T00:00:00Z",
        recordedAt: "2026-01-01T00:00:30Z",
      },
      // re-recorded after a failed notification: not a second remediation
      {
        ...base,
        assessmentId: "a",
        outcome: "applied",
        eventTime: "2026-01-01T00:00:00Z",
        recordedAt: "2026-01-01T00:09:00Z",
      },
      // appliedAt wins over recordedAt (a takeover records under the first claim's time)
      {
        ...base,
        assessmentId: "b",
        outcome: "applied",
        eventTime: "2026-01-01T00:00:00Z",
        recordedAt: "2026-01-01T00:00:01Z",
        appliedAt: "2026-01-01T00:01:00Z",
      },
      // the event's time after the change: not a measurement
      {
        ...base,
        assessmentId: "c",
        outcome: "applied",
        eventTime: "2026-01-01T01:00:00Z",
        recordedAt: "2026-01-01T00:00:00Z",
      },
      // no event time (recorded before they were kept)
      { ...base, assessmentId: "d", outcome: "applied", recordedAt: "2026-01-01T00:00:00Z" },
      {
        ...base,
        assessmentId: "e",
        outcome: "dry-run",
        eventTime: "2026-01-01T00:00:00Z",
        recordedAt: "2026-01-01T00:00:05Z",
      },
    ]);
    expect(figures.records).toBe(6);
    expect(figures.unmeasured).toBe(2);
    expect(figures.timeToRemediate.all).toEqual({ count: 2, p50: 30_000, p95: 60_000, max: 60_000 });
  });
});
