import { describe, expect, it, vi } from "vitest";
import { getAction } from "../../../packages/core/src/actions/registry.ts";
import { builtOnce, loadOnce } from "../../../packages/core/src/lazy.ts";

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

describe("builtOnce", () => {
  it("builds on the first call only, and gives the same value to every call", () => {
    const make = vi.fn(() => ({ schema: "built" }));
    const get = builtOnce(make);
    expect(make).not.toHaveBeenCalled();
    const first = get();
    expect(get()).toBe(first);
    expect(make).toHaveBeenCalledTimes(1);
  });

  it("keeps a falsy value built once", () => {
    const make = vi.fn(() => 0);
    const get = builtOnce(make);
    expect([get(), get()]).toEqual([0, 0]);
    expect(make).toHaveBeenCalledTimes(1);
  });
});

describe("the actions' params schemas", () => {
  it("are built when first read, and are the same schema on every read (the compiled tier's key)", () => {
    const action = getAction("ec2:revoke-ingress");
    expect(action.params).toBe(action.params);
    expect(action.params.safeParse(action.example).success).toBe(true);
  });
});
