/**
 * What the functions' notifier is made of (notify/deliver.ts and the Slack digest), as the one module they import on
 * first use: two lazy modules instead of one would split the code the respond bundle loads at import into more chunks
 * (esbuild gives each set of importers its own chunk; bench/cold-start.ts measures the import).
 */
export { createNotifier } from "./deliver.ts";
export { slackDigest } from "./digest.ts";
