import { describe, expect, it } from "vitest";
import { loadOnce } from "../../../packages/core/src/lazy.ts";

describe("loadOnce", () => {
  it("loads on the first call only, and shares that load with calls made meanwhile and after", async () => {
    let loads = 0;
    const client = loadOnce(async () => ({ id: ++loads }));
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([client(), client()]);
    expect(await client()).toBe(a);
    expect(b).toBe(a);
    expect(loads).toBe(1);
  });

  it("forgets a failed load, so the next call tries again", async () => {
    let attempts = 0;
    const client = loadOnce(async () => {
      attempts++;
      if (attempts === 1) throw new Error("chunk missing");
      return "loaded";
    });
    await expect(client()).rejects.toThrow("chunk missing");
    await expect(client()).resolves.toBe("loaded");
    await expect(client()).resolves.toBe("loaded");
    expect(attempts).toBe(2);
  });
});
