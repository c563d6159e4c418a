import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    env: { AWS_EC2_METADATA_DISABLED: "true" },
    allowOnly: false,
    // Property tests: a fixed seed in CI, a new one elsewhere (see the file).
    setupFiles: ["test/helpers/fast-check-seed.ts"],
    // Several tests start real processes and local servers (dynalite, esbuild bundles, Chromium): on a 2-core machine
    // under load they take a few seconds where vitest's default limit is 5 s. A limit is not an assertion: timings are
    // measured by `npm run bench`, never by tests.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
