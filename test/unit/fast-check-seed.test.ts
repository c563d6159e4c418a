import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CI_SEED, seedFor } from "../helpers/fast-check-seed.ts";

describe("the property tests' seed", () => {
  it("is fixed in CI, chosen by fast-check elsewhere, and FC_SEED replays one", () => {
    expect(seedFor({ CI: "true" })).toBe(CI_SEED);
    expect(seedFor({})).toBeUndefined();
    expect(seedFor({ CI: "true", FC_SEED: "1368189383" })).toBe(1368189383);
    expect(() => seedFor({ FC_SEED: "abc" })).toThrow('FC_SEED must be an integer (fast-check prints one), got "abc"');
  });

  it("is the one the setup file gave fast-check for this run", () => {
    expect(fc.readConfigureGlobal().seed).toBe(seedFor(process.env));
  });
});
