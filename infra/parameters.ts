import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parsePolicy } from "../packages/core/src/policy/load.ts";
import { parameterTier, policyFile, type Settings } from "./naming.ts";

/**
 * The two String parameters the deploy owns: the policy (from eks-responder.policy.json, else examples/policy.json;
 * validated here so a bad policy fails the deploy, not the first event) and the kill switch, created "off". The kill
 * switch is flipped at run time (`aws ssm put-parameter --overwrite`), so a redeploy never resets it.
 * The SecureString secrets are created by you (docs/deploy.md); CloudFormation-style tools cannot create them.
 */
export function createParameters(settings: Settings) {
  const root = $cli.paths.root;
  const file = policyFile((path) => existsSync(join(root, path)));
  const text = readFileSync(join(root, file), "utf8");
  const document: unknown = JSON.parse(text);
  parsePolicy(document, file);
  const value = JSON.stringify(document);
  const policy = new aws.ssm.Parameter("Policy", {
    name: settings.parameterNames.policy,
    description: `eks-responder policy (from ${file})`,
    type: "String",
    tier: parameterTier(value),
    value,
  });
  const killSwitch = new aws.ssm.Parameter(
    "KillSwitch",
    {
      name: settings.parameterNames.killSwitch,
      description: 'eks-responder kill switch: "on" downgrades every action to an alert',
      type: "String",
      value: "off",
      allowedPattern: "^(on|off)$",
    },
    { ignoreChanges: ["value"] },
  );
  return { policy, killSwitch, policyFile: file };
}
