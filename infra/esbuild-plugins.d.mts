import type { Plugin } from "esbuild";

/** The shim module for one builtin (`http` or `https`): required, its members re-exported but for undici's. */
export declare function shimSource(builtin: string): string;
/** Resolves ES imports of `node:http` and `node:https` to the shim. */
export declare const httpThroughRequire: Plugin;
declare const plugins: Plugin[];
export default plugins;
