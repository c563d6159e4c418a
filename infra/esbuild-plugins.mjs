/**
 * esbuild plugins for the functions' bundles: SST loads this file (`nodejs.plugins` in infra/functions.ts) and
 * bench/cold-start.ts bundles with the same list, so the numbers are those of what is deployed.
 *
 * Why a plugin of our own: on Node 22, an ES module that imports `node:http` or `node:https` makes Node build an ESM
 * facade of the builtin, which reads every export, including the lazy `WebSocket`, `CloseEvent` and `MessageEvent`
 * getters, and so loads Node's bundled undici (nodejs/node#57649, #59686) on the first AWS call of a cold start, for
 * classes nothing uses (test/unit/infra/esbuild-plugins.test.ts shows the load, and that the plugin prevents it). The
 * AWS SDK's HTTP handler imports `http` and `https` that way. This plugin gives those imports a small module that
 * takes the builtin through `require` (no facade, no getter read) and re-exports its members, except the three undici
 * ones: importing one of them fails the build, loudly.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const NAMESPACE = "node-builtin-through-require";
const UNDICI_GETTERS = new Set(["WebSocket", "CloseEvent", "MessageEvent"]);
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The shim for one builtin: `require` it, re-export its members by name (read once, when the shim loads). */
export function shimSource(builtin) {
  const names = Object.keys(require(builtin)).filter((n) => IDENTIFIER.test(n) && !UNDICI_GETTERS.has(n));
  return [
    'import { createRequire } from "node:module";',
    `const m = createRequire(import.meta.url)(${JSON.stringify(builtin)});`,
    "export default m;",
    ...names.map((n) => `export const ${n} = m.${n};`),
    "",
  ].join("\n");
}

/** @type {import("esbuild").Plugin} */
export const httpThroughRequire = {
  name: "http-through-require",
  setup(build) {
    build.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
      // Only ES imports build the facade; a `require()` of the builtin already takes the plain CommonJS path.
      args.kind === "import-statement" || args.kind === "dynamic-import"
        ? { path: args.path.replace(/^node:/, ""), namespace: NAMESPACE }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: shimSource(args.path), loader: "js" }));
  },
};

/**
 * The AWS SDK clients' schema files (`@aws-sdk/client-*\/dist-es/schemas/schemas_0.js`: one declaration per shape of
 * the service) write XML and query names as computed keys of file-level string constants (`{ [_xN]: _sGI }`), and
 * esbuild keeps every declaration with a computed key, as it cannot tell the key's conversion has no side effects: an
 * EC2 bundle then carries the schemas of all its operations (about 535 KiB minified) whatever commands it imports,
 * and the first EC2 call of a cold start waits while they load (bench/time-to-fix.ts). This writes each such key as
 * the string literal the constant holds, the same object, so the bundler drops the shapes no imported command
 * reaches. Hand-written: no package does this rewrite; test/unit/infra/esbuild-plugins.test.ts checks that the rewritten
 * files export values equal to the originals, for every client the functions use.
 */
export const SCHEMA_FILE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** `source` with every computed key `[_name]:` whose `_name` is a top-level `const _name = "…";` written as that literal. */
export function literalSchemaKeys(source) {
  const strings = new Map();
  for (const m of source.matchAll(/^const (_\w+) = ("(?:[^"\\\n]|\\.)*");$/gm)) strings.set(m[1], m[2]);
  return source.replace(/\[(_\w+)\]:/g, (whole, name) => (strings.has(name) ? `${strings.get(name)}:` : whole));
}

/** @type {import("esbuild").Plugin} */
export const shakableSdkSchemas = {
  name: "shakable-sdk-schemas",
  setup(build) {
    build.onLoad({ filter: SCHEMA_FILE }, async (args) => ({
      contents: literalSchemaKeys(await readFile(args.path, "utf8")),
      loader: "js",
    }));
  },
};

export default [httpThroughRequire, shakableSdkSchemas];
