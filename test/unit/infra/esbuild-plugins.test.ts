import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type BuildOptions, build, type Plugin } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import plugins, {
  literalSchemaKeys,
  SCHEMA_FILE,
  shakableSdkSchemas,
  shimSource,
} from "../../../infra/esbuild-plugins.mjs";

const dir = mkdtempSync(join(tmpdir(), "eks-responder-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROOT = join(import.meta.dirname, "../../..");

/** Writes `source` as `<name>.ts` and bundles it as the functions are bundled (ESM, node22), with `options` on top. */
function buildEntry(name: string, source: string, options: BuildOptions) {
  writeFileSync(join(dir, `${name}.ts`), source);
  return build({
    entryPoints: [join(dir, `${name}.ts`)],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    nodePaths: [join(ROOT, "node_modules")],
    logLevel: "silent",
    ...options,
  });
}

/** Bundles `source` as the functions are bundled (ESM, node22) and reports what importing it loaded. */
async function importInFreshNode(name: string, source: string, pluginList: Plugin[]) {
  await buildEntry(name, source, { outfile: join(dir, `${name}.mjs`), plugins: pluginList });
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

/** Bundles `source` (not minified) with the given plugins, and imports it. */
async function bundleAndImport(name: string, source: string, pluginList: Plugin[]): Promise<Record<string, unknown>> {
  const outfile = join(dir, `${name}.mjs`);
  await buildEntry(name, source, { outfile, plugins: pluginList });
  return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
}

/** A schema value with its functions (the lazy `() => Shape$` references) written as their source. */
function comparable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === "function" ? `fn ${String(v)}` : v)));
}

const SCHEMA_FILES = readdirSync(join(ROOT, "node_modules/@aws-sdk"))
  .filter((p) => p.startsWith("client-"))
  .map((p) => join(ROOT, "node_modules/@aws-sdk", p, "dist-es/schemas/schemas_0.js"))
  .filter((f) => existsSync(f));

describe("shakableSdkSchemas", () => {
  it("finds the schema file of every SDK client the functions use", () => {
    for (const client of ["client-ec2", "client-dynamodb", "client-ssm", "client-sns", "client-sfn", "client-eks"]) {
      expect(
        SCHEMA_FILES.some((f) => f.includes(`/${client}/`)),
        client,
      ).toBe(true);
      expect(SCHEMA_FILE.test(SCHEMA_FILES.find((f) => f.includes(`/${client}/`)) ?? "")).toBe(true);
    }
  });

  it.each(SCHEMA_FILES.map((f) => [f.split("/").at(-4) ?? f, f]))(
    "%s: the rewritten schemas export the same values, with no computed key left",
    async (client, file) => {
      const source = `export * from ${JSON.stringify(file)};`;
      const original = await bundleAndImport(`${client}-original`, source, []);
      const rewritten = await bundleAndImport(`${client}-rewritten`, source, [shakableSdkSchemas]);
      expect(Object.keys(rewritten).sort()).toEqual(Object.keys(original).sort());
      for (const key of Object.keys(original)) {
        if (key === "errorTypeRegistries") continue;
        expect(comparable(rewritten[key]), key).toEqual(comparable(original[key]));
      }
      expect(literalSchemaKeys(readFileSync(file, "utf8"))).not.toMatch(/\[_\w+\]:/);
    },
    30_000,
  );

  it("lets a bundle of two EC2 commands leave out the schemas of the others", async () => {
    const source = `import { DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
export const probe = () => [typeof EC2Client, typeof DescribeSecurityGroupsCommand];`;
    const size = async (name: string, list: Plugin[]) => {
      const out = await buildEntry(name, source, {
        minify: true,
        // As the functions are bundled (bench/cold-start.ts): the SDK's ES modules, which esbuild can shake.
        mainFields: ["module", "main"],
        write: false,
        plugins: list,
      });
      const text = out.outputFiles?.[0]?.text ?? "";
      return { bytes: text.length, allocateAddress: text.includes("AllocateAddressRequest") };
    };
    const without = await size("ec2-without", []);
    const withPlugin = await size("ec2-with", [shakableSdkSchemas]);
    expect(without.allocateAddress).toBe(true);
    expect(withPlugin.allocateAddress).toBe(false);
    expect(withPlugin.bytes).toBeLessThan(without.bytes - 400_000);
  }, 30_000);
});
