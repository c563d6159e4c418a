import type { Policy } from "./schema.ts";

/**
 * Policy per scope: `scopes` is a list of `{ name, accounts?, ous?, regions?, dryRun?, detectors?, exemptions?, limits? }`
 * applied in order over the global settings. A scope applies to an assessment when each of the lists it sets holds the
 * assessment's account, one of the account's OUs, and its region (a list left out matches everything). Of the scopes
 * that apply, a later one wins over an earlier one, and any of them over the global setting, for the detector modes,
 * dry-run, staged and the blast-radius limit; their exemption lists are added to the global ones.
 *
 * OUs are known from the policy only (`organization.accountOus`: account → the OUs it sits in, its own and the ones above
 * it, as `organizations:ListParents` gives them walking up): the responder reads no Organizations API while deciding,
 * so deciding stays free of network calls, and an account the map does not name matches no `ous` scope.
 */

export type Scope = Policy["scopes"][number];
type DetectorEntry = NonNullable<Policy["detectors"][string]>;

/** What applies to one account and region: the global settings with the matching scopes laid over them. */
export interface ScopedSettings {
  /** The names of the scopes that apply, in policy order. */
  scopes: string[];
  dryRun: boolean;
  /** The scope that set `dryRun`, when one did. */
  dryRunScope?: string;
  exemptions: Pick<Policy["exemptions"], "principals" | "namespaces" | "tags">;
  automaticActionsPerAccount: number;
  /** The scope that set the limit, when one did. */
  limitScope?: string;
  /** A detector's entry (mode, dryRun, staged) with the scopes' over the global one, and the scope that set the mode. */
  detector(id: string): { entry: DetectorEntry | undefined; modeScope?: string };
}

/** The OUs the policy says `account` sits in. */
export function ousOf(policy: Policy, account: string): readonly string[] {
  return policy.organization.accountOus[account] ?? [];
}

/** Whether `scope` applies to `account` in `region`. */
export function scopeApplies(scope: Scope, policy: Policy, account: string, region: string): boolean {
  if (scope.accounts && !scope.accounts.includes(account)) return false;
  if (scope.regions && !scope.regions.includes(region)) return false;
  if (scope.ous) {
    const ous = ousOf(policy, account);
    if (!scope.ous.some((ou) => ous.includes(ou))) return false;
  }
  return true;
}

/** The settings for `account` in `region`. */
export function scopedSettings(policy: Policy, account: string, region: string): ScopedSettings {
  const matching = policy.scopes.filter((s) => scopeApplies(s, policy, account, region));
  const settings: ScopedSettings = {
    scopes: matching.map((s) => s.name),
    dryRun: policy.dryRun,
    exemptions: {
      principals: [...policy.exemptions.principals],
      namespaces: [...policy.exemptions.namespaces],
      tags: [...policy.exemptions.tags],
    },
    automaticActionsPerAccount: policy.limits.automaticActionsPerAccount,
    detector: (id) => detectorIn(policy, matching, id),
  };
  for (const scope of matching) {
    if (scope.dryRun !== undefined) {
      settings.dryRun = scope.dryRun;
      settings.dryRunScope = scope.name;
    }
    if (scope.limits?.automaticActionsPerAccount !== undefined) {
      settings.automaticActionsPerAccount = scope.limits.automaticActionsPerAccount;
      settings.limitScope = scope.name;
    }
    settings.exemptions.principals.push(...(scope.exemptions?.principals ?? []));
    settings.exemptions.namespaces.push(...(scope.exemptions?.namespaces ?? []));
    settings.exemptions.tags.push(...(scope.exemptions?.tags ?? []));
  }
  return settings;
}

function detectorIn(
  policy: Policy,
  matching: readonly Scope[],
  id: string,
): { entry: DetectorEntry | undefined; modeScope?: string } {
  let entry = policy.detectors[id];
  let modeScope: string | undefined;
  for (const scope of matching) {
    const over = scope.detectors?.[id];
    if (!over) continue;
    entry = { ...entry, ...over };
    if (over.mode !== undefined) modeScope = scope.name;
  }
  return { entry, ...(modeScope !== undefined ? { modeScope } : {}) };
}
