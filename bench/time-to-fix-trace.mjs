/**
 * Preloaded (`node --import`) into each process of bench/time-to-fix.ts: records the critical path in the process's own
 * clock (ms since it started). Each chunk of the bundle gets one statement appended, run when its evaluation ends
 * (`import <chunk>`); every HTTP request is recorded when it is created and when its answer's headers arrive, named by
 * the header the local servers add. Node's module hooks and diagnostics channels, not patches of the SDK. Plain
 * JavaScript: a .ts preload would make Node load its type stripper (amaro) into every measured process.
 */
import { subscribe } from "node:diagnostics_channel";
import { registerHooks } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";

/** @type {{ at: number, what: string }[]} */
const path = [];
/** @param {string} what */
const trace = (what) => {
  path.push({ at: performance.now(), what });
};
Object.assign(globalThis, { __benchPath: path, __benchTrace: trace });

const bundleDir = `${pathToFileURL(dirname(process.env.BENCH_TRACE_DIR ?? "/nonexistent")).href}/`;
registerHooks({
  load(url, context, nextLoad) {
    const loaded = nextLoad(url, context);
    if (!url.startsWith(bundleDir) || loaded.format !== "module" || loaded.source === undefined) return loaded;
    const name = url.slice(bundleDir.length);
    const source = typeof loaded.source === "string" ? loaded.source : new TextDecoder().decode(loaded.source);
    return { ...loaded, source: `${source}\n;globalThis.__benchTrace(${JSON.stringify(`import ${name}`)});\n` };
  },
});

/** @type {WeakMap<object, number>} */
const ids = new WeakMap();
let next = 0;
subscribe("http.client.request.start", (message) => {
  const { request } = /** @type {{ request: object }} */ (message);
  const id = ++next;
  ids.set(request, id);
  trace(`sent #${id}`);
});
subscribe("http.client.response.finish", (message) => {
  const { request, response } = /** @type {{ request: object, response: import("node:http").IncomingMessage }} */ (
    message
  );
  trace(`answered #${ids.get(request) ?? 0} ${String(response.headers["x-bench-operation"] ?? "unknown")}`);
});
