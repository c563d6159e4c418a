import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type BundleInfo, bundle, handlerNames, RESPOND_WITHOUT_ACTIONS, WHAT_IF } from "../../../bench/cold-start.ts";

/**
 * What each Lambda handler loads at import, bundled as SST bundles it (the bundle function of bench/cold-start.ts):
 * the lazy loading docs/performance.md measures is a property of the bundles, so it is checked here, where a change
 * that undoes it fails a test instead of only moving a number.
 */
const ROOT = join(import.meta.dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "eks-responder-bundles-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundles = new Map<string, Promise<BundleInfo>>();
function bundleOf(name: string): Promise<BundleInfo> {
  let b = bundles.get(name);
  if (!b) {
    b = bundle(join(ROOT, "packages/functions/src", `${name}.handler.ts`), join(dir, name));
    bundles.set(name, b);
  }
  return b;
}

const matching = (inputs: string[], pattern: RegExp) => inputs.filter((i) => pattern.test(i));

describe("what the handlers load at import", () => {
  const names = handlerNames();

  it("finds every handler", () => {
    expect(names).toEqual(expect.arrayContaining(["respond", "digest", "approval-request", "approval-callback"]));
  });

  it.each(names)("%s imports no AWS SDK client: each is imported on its first use", async (name) => {
    const { inputsAtImport } = await bundleOf(name);
    expect(inputsAtImport.length).toBeGreaterThan(0);
    expect(matching(inputsAtImport, /node_modules\/@(aws-sdk|smithy)\//)).toEqual([]);
  });

  it.each(names)("%s loads zod/mini only: neither classic zod nor zod's JSON Schema code", async (name) => {
    const { inputsAtImport } = await bundleOf(name);
    expect(matching(inputsAtImport, /node_modules\/zod\/v4\/mini\//).length).toBeGreaterThan(0);
    expect(matching(inputsAtImport, /node_modules\/zod\/(v4\/classic\/|v4\/core\/(to-)?json-schema)/)).toEqual([]);
  });

  it("respond loads neither the notifier nor the approval code before an event needs them", async () => {
    const { inputsAtImport } = await bundleOf("respond");
    expect(matching(inputsAtImport, /packages\/core\/src\/pipeline\/respond\.ts$/)).toHaveLength(1);
    expect(matching(inputsAtImport, /packages\/core\/src\/(notify|approval)\//)).toEqual([]);
    expect(matching(inputsAtImport, /node_modules\/@slack\//)).toEqual([]);
  });

  it.each(["respond", "approval-apply"])(
    "%s loads no Kubernetes client, token or signer at import: only the call types and KubeApiError",
    async (name) => {
      const { inputsAtImport, inputBytesAtImport, externalsAtImport } = await bundleOf(name);
      // The actions' plans and the call log need kubernetes/api.ts; the client (node:https), the EKS token and the
      // access are imported when a Kubernetes action first asks for a cluster (functions/src/runtime.ts). Action
      // files import kubePath, KubeApiError and the types from kubernetes/api.ts, never from kubernetes/client.ts.
      expect(matching(inputsAtImport, /packages\/core\/src\/kubernetes\//)).toEqual([
        "packages/core/src/kubernetes/api.ts",
      ]);
      expect(inputBytesAtImport["packages/core/src/kubernetes/api.ts"]).toBeLessThan(1024);
      expect(matching(inputsAtImport, /node_modules\/(@smithy\/signature-v4|@kubernetes|yaml)\//)).toEqual([]);
      expect(externalsAtImport).not.toContain("node:https");
    },
  );

  it.each(["respond", "approval-apply"])(
    "%s loads every action's definition at import and none of their live code: that is imported on first use",
    async (name) => {
      const { inputsAtImport, inputBytesAtImport, allInputs } = await bundleOf(name);
      const actions = (files: string[]) => matching(files, /packages\/core\/src\/actions\//);
      // The definitions (id, params, plan) are needed by every event; check, apply and rollback only when an action
      // runs (actions/deferred.ts, through actions/runtimes.ts), with the helpers only they use.
      expect(matching(inputsAtImport, /\.action\.ts$/)).toHaveLength(10);
      expect(matching(allInputs, /\.apply\.ts$/)).toHaveLength(10);
      expect(
        matching(
          actions(inputsAtImport),
          /\.(apply|live|protect|ami)\.ts$|\/(runtimes|calls|eks-calls|eks-access|cluster-security-group)\.ts$/,
        ),
      ).toEqual([]);
      // What the definitions cost at import: 120 KiB before the split (docs/performance.md), 53 KiB after.
      const bytes = actions(inputsAtImport).reduce((sum, input) => sum + (inputBytesAtImport[input] ?? 0), 0);
      expect(bytes).toBeLessThan(60 * 1024);
    },
  );

  it("respond loads at most 9 files at import: its lazy modules do not cut its code into many small chunks", async () => {
    // esbuild gives each file a chunk per set of entries that import it, lazy modules included, so every lazy module
    // that shares files with the handler can split them off into chunks of their own: one more module each for Node's
    // loader at import. The actions' live code with the Kubernetes access (actions/runtimes.ts) and the notifier
    // (notify/notifier.ts) are one lazy module each for that reason: 9 is what the respond bundle loads today, 29 with a
    // lazy module per action, 7 before the Kubernetes actions (docs/performance.md).
    const { filesAtImport } = await bundleOf("respond");
    expect(filesAtImport).toBeGreaterThan(1);
    expect(filesAtImport).toBeLessThanOrEqual(9);
  });

  it.each(names)(
    "%s never bundles @kubernetes/client-node (a devDependency for bench/kubernetes-client.ts)",
    async (name) => {
      const { allInputs } = await bundleOf(name);
      expect(allInputs.length).toBeGreaterThan(0);
      expect(matching(allInputs, /node_modules\/@kubernetes\//)).toEqual([]);
    },
  );

  it.each(names)(
    "%s bundles no AWS SDK client's aggregated class: every client and command is imported by name (aws/*.ts)",
    async (name) => {
      // `await import("@aws-sdk/client-x")` needs the package's whole namespace, and with it the aggregated class
      // (`SSM.js`, `EKS.js`…) that imports every command, every command's schema, error class and enum: for SSM that
      // was a 175 KiB chunk on the path to the first fix, loaded with the policy read. The re-export modules of
      // packages/core/src/aws/ name what is used, so esbuild keeps only that.
      const { bundledInputs } = await bundleOf(name);
      const sdk = matching(bundledInputs, /node_modules\/@aws-sdk\/client-[a-z0-9-]+\/dist-es\//);
      expect(sdk.length).toBeGreaterThan(0);
      expect(matching(sdk, /\/dist-es\/[A-Z]\w*\.js$/).filter((input) => !input.endsWith("Client.js"))).toEqual([]);
    },
  );

  it("the bench's what-if bundle (respond with every action definition a stub) builds with none of their code", async () => {
    const whatIf = WHAT_IF[RESPOND_WITHOUT_ACTIONS];
    if (!whatIf) throw new Error("no what-if bundle without actions");
    const { allInputs } = await bundle(whatIf.entry, join(dir, "what-if"), whatIf.plugins);
    expect(matching(allInputs, /packages\/core\/src\/pipeline\/respond\.ts$/)).toHaveLength(1);
    expect(matching(allInputs, /packages\/core\/src\/actions\/.*\.apply\.ts$/)).toEqual([]);
  });
});
