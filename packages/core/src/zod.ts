/**
 * The one zod import of the project (`import * as z from "../zod.ts"`): zod/mini, the tree-shakable API over the same
 * parser as classic zod. Classic zod is 443 KiB at import, zod/mini a few KiB (bench/cold-start.ts measures both in
 * its probes, with their import times). Unlike classic, mini loads no
 * error messages by default: the English ones are configured here, once, so every issue reads as before ("Too small:
 * expected string to have >=1 characters"). Re-exported with `export *` (not as an object) so bundlers keep only the
 * parts used.
 */

import { config } from "zod/mini";
import en from "zod/v4/locales/en.js";

config(en());

export * from "zod/mini";
