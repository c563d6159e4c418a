/**
 * The generated parts of docs/kubernetes.md (the rest of the page is written by hand): the shipped ClusterRole's
 * rules with the actions that use each, and the list of Kubernetes actions. They follow the registry as actions are
 * added; the docs-current test fails when the page is stale (`npm run docs`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ActionDefinition } from "../packages/core/src/actions/types.ts";
import { CLUSTER_ROLE_NAME, DEFAULT_KUBERNETES_GROUP, responderRules } from "../packages/core/src/kubernetes/rbac.ts";
import { withMarkedSection } from "./markers.ts";

export const KUBERNETES_DOC = "docs/kubernetes.md";
const ROOT = join(import.meta.dirname, "..");

function usedBy(actions: readonly ActionDefinition[], group: string, resource: string): string {
  const ids = actions.filter((a) =>
    (a.kubernetesPermissions ?? []).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource)),
  );
  return ids.map((a) => `[\`${a.id}\`](actions/${a.id.replace(":", "-")}.md)`).join(", ");
}

/** The ClusterRole's rules, one row per (API group, resource), as `responderRules` builds them. */
export function rulesTable(actions: readonly ActionDefinition[]): string {
  const rules = responderRules(actions);
  const intro = `The ClusterRole \`${CLUSTER_ROLE_NAME}\`, bound to the group \`${DEFAULT_KUBERNETES_GROUP}\` by default (generated from the actions' \`kubernetesPermissions\`):`;
  if (rules.length === 0)
    return `${intro} no registered action has Kubernetes rules yet, so the role grants nothing.\n`;
  const rows = rules.map((r) => {
    const group = r.apiGroups[0] ?? "";
    const resource = r.resources[0] ?? "";
    const verbs = r.verbs.map((v) => `\`${v}\``).join(", ");
    return `| ${group === "" ? "core" : `\`${group}\``} | \`${resource}\` | ${verbs} | ${usedBy(actions, group, resource)} |`;
  });
  return [intro, "", "| API group | resource | verbs | used by |", "| --- | --- | --- | --- |", ...rows, ""].join("\n");
}

/** The Kubernetes actions, each linked to its generated page. */
export function actionList(actions: readonly ActionDefinition[]): string {
  const k8s = actions.filter((a) => a.id.startsWith("k8s:"));
  if (k8s.length === 0) return "No Kubernetes action is registered yet.\n";
  return `${k8s.map((a) => `- [\`${a.id}\`](actions/${a.id.replace(":", "-")}.md): ${a.summary}`).join("\n")}\n`;
}

/** docs/kubernetes.md as committed, with its generated sections current. */
export function kubernetesPage(actions: readonly ActionDefinition[]): string {
  const page = readFileSync(join(ROOT, KUBERNETES_DOC), "utf8");
  const withRules = withMarkedSection(page, "kubernetes:rules", rulesTable(actions), KUBERNETES_DOC);
  return withMarkedSection(withRules, "kubernetes:actions", actionList(actions), KUBERNETES_DOC);
}
