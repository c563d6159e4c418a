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

export default [httpThroughRequire];
