import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import plugins, { shimSource } from "../../../infra/esbuild-plugins.mjs";

const dir = mkdtempSync(join(tmpdir(), "eks-responder-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bundles `source` as the functions are bundled (ESM, node22) and reports what importing it loaded. */
async function importInFreshNode(name: string, source: string, pluginList: Plugin[]) {
  writeFileSync(join(dir, `${name}.ts`), source);
  await build({
    entryPoints: [join(dir, `${name}.ts`)],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    outfile: join(dir, `${name}.mjs`),
    plugins: pluginList,
    logLevel: "silent",
  });
  const code = `const m = await import(${JSON.stringify(pathToFileURL(join(dir, `${name}.mjs`)).href)});
process.stdout.write(JSON.stringify({ undici: process.moduleLoadList.some((l) => l.includes("undici")), result: await m.probe() }));`;
  return JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", code], { encoding: "utf8" })) as {
    undici: boolean;
    result: unknown;
  };
}

const SOURCE = `import { Agent, request } from "node:http";
import * as https from "https";
export async function probe() {
  const dynamic = await import("node:http");
  return [typeof request, new Agent({ keepAlive: true }).keepAlive, typeof https.request, typeof https.Agent, dynamic.STATUS_CODES[404]];
}`;

describe("infra/esbuild-plugins.mjs", () => {
  it("keeps Node from loading undici when a bundle imports node:http and node:https, with the same members", async () => {
    const without = await importInFreshNode("without", SOURCE, []);
    const withPlugin = await importInFreshNode("with", SOURCE, plugins);
    // Without the plugin, the ES import of the builtin loads undici (nodejs/node#57649): the test can fail.
    expect(without.undici).toBe(true);
    expect(withPlugin.undici).toBe(false);
    expect(withPlugin.result).toEqual(["function", true, "function", "function", "Not Found"]);
    expect(withPlugin.result).toEqual(without.result);
  });

  it("re-exports every member but undici's three, so importing one of those fails the build", async () => {
    const source = shimSource("http");
    expect(source).toContain("export const request = m.request;");
    expect(source).not.toMatch(/WebSocket|CloseEvent|MessageEvent/);
    writeFileSync(
      join(dir, "ws.ts"),
      `import { WebSocket } from "node:http";\nexport const probe = () => typeof WebSocket;`,
    );
    await expect(
      build({
        entryPoints: [join(dir, "ws.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        write: false,
        plugins,
        logLevel: "silent",
      }),
    ).rejects.toThrow(/WebSocket/);
  });
});
