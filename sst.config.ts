/// <reference path="./.sst/platform/config.d.ts" />

// Wiring only: every resource is created in infra/, imported inside run() (SST refuses top-level imports here).
export default $config({
  app(input) {
    return {
      name: "eks-responder",
      home: "aws",
      removal: input?.stage === "production" ? "retain" : "remove",
      providers: { aws: { region: "eu-west-1" } },
    };
  },
  async run() {
    const { createRules } = await import("./infra/rules.ts");
    const rules = createRules();
    return { rules: rules.map((r) => r.name) };
  },
});
