import type { Plugin } from "esbuild";

/** The shim module for one builtin (`http` or `https`): required, its members re-exported but for undici's. */
export declare function shimSource(builtin: string): string;
/** Resolves ES imports of `node:http` and `node:https` to the shim. */
export declare const httpThroughRequire: Plugin;
/** The AWS SDK clients' schema files (`@aws-sdk/client-*` `dist-es/schemas/schemas_N.js`). */
export declare const SCHEMA_FILE: RegExp;
/** A schema file with its computed keys of file-level string constants written as the literals they hold. */
export declare function literalSchemaKeys(source: string): string;
/** Rewrites the SDK's schema files so that esbuild can drop the shapes no imported command reaches. */
export declare const shakableSdkSchemas: Plugin;
declare const plugins: Plugin[];
export default plugins;
