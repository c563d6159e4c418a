import { describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import { ACTIONS } from "../../../packages/core/src/actions/registry.ts";
import { rbacManifests } from "../../../packages/core/src/kubernetes/rbac.ts";
import { captureIo } from "../../helpers/cli-io.ts";

describe("eks-responder kubernetes-rbac", () => {
  it("prints exactly rbacManifests(ACTIONS) for the group eks-responder, as JSON for kubectl apply -f -", async () => {
    const c = captureIo();
    const code = await main(["kubernetes-rbac"], c.io);
    expect(code).toBe(0);
    expect(c.err()).toBe("");
    expect(c.out().endsWith("}\n")).toBe(true);
    expect(JSON.parse(c.out())).toEqual(rbacManifests(ACTIONS, "eks-responder"));
  });

  it("binds the role to --group NAME", async () => {
    const c = captureIo();
    expect(await main(["kubernetes-rbac", "--group", "platform:responders"], c.io)).toBe(0);
    expect(JSON.parse(c.out())).toEqual(rbacManifests(ACTIONS, "platform:responders"));
  });

  it.each([
    ["system:authenticated", "starts with system:"],
    ["eks:nodes", "starts with eks:"],
    ["two words", "is not a group name"],
    ["", "is not a group name"],
  ])("refuses the group %j with exit code 2, naming it, and prints nothing", async (group, why) => {
    const c = captureIo();
    expect(await main(["kubernetes-rbac", "--group", group], c.io)).toBe(2);
    expect(c.out()).toBe("");
    expect(c.err()).toContain(`--group "${group}" ${why}`);
  });

  it("refuses options and arguments it does not take, with the usage", async () => {
    for (const args of [["--json"], ["--yes"], ["extra"], ["--group"]]) {
      const c = captureIo();
      expect(await main(["kubernetes-rbac", ...args], c.io), args.join(" ")).toBe(2);
      expect(c.out()).toBe("");
      expect(c.err()).toContain("Usage: eks-responder");
    }
  });

  it("explains itself in --help and in the command list", async () => {
    const c = captureIo();
    expect(await main(["kubernetes-rbac", "--help"], c.io)).toBe(0);
    expect(c.out()).toContain("kubernetes-rbac [--group NAME]");
    expect(c.out()).toContain("npx eks-responder kubernetes-rbac | kubectl apply -f -");
  });
});
