import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    env: { AWS_EC2_METADATA_DISABLED: "true" },
    allowOnly: false,
  },
});
