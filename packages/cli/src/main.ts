import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { DEFAULT_KUBERNETES_GROUP } from "@eks-responder/core/kubernetes/rbac.ts";
import { audit } from "./audit.ts";
import { stateDir } from "./journal.ts";
import { kubernetesRbac } from "./kubernetes-rbac.ts";
import { memberRoleOption } from "./member-role.ts";
import { patch } from "./patch.ts";
import { redrive } from "./redrive.ts";
import { replay } from "./replay.ts";
import { report } from "./report.ts";
import { rollback } from "./rollback.ts";
import type { Io } from "./terminal.ts";

const USAGE = `Usage: eks-responder <command> [options]

Commands:
  replay [--json] [--config FILE] PATH...
      Run events through parse → assess → decide → plan and show, per event, what eks-responder would do and why.
      PATH is an event file or a folder of .json event files. Dry-run: nothing in AWS is touched. Each event also
      shows which deployed EventBridge rule would deliver it (none: the deployment would never see it).
  replay --apply [--yes] [--json] [--config FILE] [--state-dir DIR] [--kubeconfig FILE] [--role-arn ARN [--external-id ID]] PATH...
      Carry the plans out against the AWS account of the standard credential chain, in each event's region. You are
      the approver: actions of auto and approve mode are carried out, each confirmed on the terminal first (--yes
      confirms all); alert-mode, exempt, sample and out-of-scope events are never acted on. Every change is recorded
      in the state folder for rollback. Kubernetes actions (k8s:*) reach the cluster through the kubeconfig of
      --kubeconfig (else the first file of $KUBECONFIG): the context named after the EKS cluster, or whose cluster
      is, else the current context; without one, through an EKS token made with your AWS credentials.
  rollback [--yes] [--json] [--dry-run] [--state-dir DIR | --table TABLE [--region REGION]] [--kubeconfig FILE]
           [--role-arn ARN [--external-id ID]] OUTCOME_ID
      Undo a recorded outcome (its id is the assessment id, asm-…) exactly: every action of its plan still applied,
      last first, stopping at the first failure with what stays applied. From the local record of replay --apply, or
      from the deployment's DynamoDB audit with --table (or $EKS_RESPONDER_TABLE). --dry-run shows each undo, its
      calls and the state it puts back, and changes nothing. Kubernetes undos use --kubeconfig as replay --apply does.
  patch --cluster NAME [--nodegroup NAME] [--region REGION] [--no-reboot] [--dry-run] [--yes] [--json]
        [--role-arn ARN [--external-id ID]]
      Install missing patches on the cluster's nodes with AWS-RunPatchBaseline (SSM), in one command, only on nodes
      SSM manages that run an OS Patch Manager supports (Bottlerocket is reported, not patched), and follow the
      command to the end. Nodes are found by eks:cluster-name, aws:eks:cluster-name and kubernetes.io/cluster/NAME.
      Your confirmation (or --yes) allows RebootIfNeeded; --no-reboot sends NoReboot.
  audit [--since DURATION] [--cluster NAME] [--table TABLE] [--limit N] [--json]
      List what was decided and done, newest first: the deployment's DynamoDB audit with --table (or
      $EKS_RESPONDER_TABLE), else the local record of replay --apply. DURATION: 30m, 24h, 7d.
  report [--since WHEN] [--until WHEN] [--table TABLE [--region REGION]] [--json]
      How fast changes are made: time to remediate (event time → change applied) per detector and per account, and
      time waiting for approval (request → decision), as count, p50, p95 and max (nearest-rank percentiles). From the
      deployment's DynamoDB audit with --table (or $EKS_RESPONDER_TABLE), else the local record of replay --apply.
      WHEN: a duration back from now (30m, 24h, 7d) or an ISO time (2026-11-01T00:00:00Z).
  redrive --queue-url URL --function NAME [--max N] [--region REGION] [--yes] [--json]
      Hand the events of the dead-letter queue to the respond function again (the same idempotent path); a message
      is deleted only once handled.
  kubernetes-rbac [--group NAME]
      Print the ClusterRole eks-responder acts with inside a cluster (exactly the verbs its Kubernetes actions use;
      never secrets, exec, binding writes, bind or escalate) and its ClusterRoleBinding to the group NAME (default
      eks-responder, the group of the deployment's access entries), as JSON for kubectl. Run once per cluster, with
      cluster-admin rights: npx eks-responder kubernetes-rbac | kubectl apply -f -
  help
      Show this help.

Acting in a member account (replay --apply, rollback, patch): --role-arn ARN assumes that role (for rollback, the
member rollback role of a hub deployment, from the hub's rollback role) from your own credentials, with --external-id ID when its trust policy asks for one, in a
session named eks-responder-<assessment id>, the way the hub does: the member account's CloudTrail shows which
assessment each change was for. Only events and outcomes of the role's account are acted on; a role that cannot be
assumed fails the action, naming the account and the role, and nothing is done with your own credentials instead.

The state folder is --state-dir, else $EKS_RESPONDER_STATE_DIR, else $XDG_STATE_HOME/eks-responder
(~/.local/state/eks-responder).

Exit codes: 0 done; 1 an action failed; 2 some input was unreadable or invalid (the others are still processed), or
the command line, the policy file or a confirmation was missing.
`;

function usageError(io: Io, message: string): number {
  io.stderr.write(`eks-responder: ${message}\n\n${USAGE}`);
  return 2;
}

/** The options of the commands that act (replay --apply, rollback, patch): in a member account, through its role. */
const MEMBER_ROLE = {
  "role-arn": { type: "string" },
  "external-id": { type: "string" },
} as const;

const COMMON = {
  json: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  "state-dir": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

function parse<O extends ParseArgsOptionsConfig>(args: string[], extra: O) {
  return parseArgs({ args, allowPositionals: true, strict: true, options: { ...COMMON, ...extra } });
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? 2 : 0;
  }
  try {
    switch (command) {
      case "replay": {
        const { values, positionals } = parse(rest, {
          config: { type: "string", short: "c" },
          apply: { type: "boolean" },
          kubeconfig: { type: "string" },
          ...MEMBER_ROLE,
        });
        if (values.help) return help(io);
        if (positionals.length === 0) return usageError(io, "replay needs at least one event file or folder");
        if (values.yes && !values.apply) return usageError(io, "--yes only goes with --apply");
        if (values.kubeconfig !== undefined && !values.apply)
          return usageError(io, "--kubeconfig only goes with --apply");
        if (values["role-arn"] !== undefined && !values.apply)
          return usageError(io, "--role-arn only goes with --apply");
        const role = memberRoleOption(values["role-arn"], values["external-id"]);
        if (typeof role === "string") return usageError(io, role);
        return await replay(
          {
            paths: positionals,
            json: values.json === true,
            apply: values.apply === true,
            yes: values.yes === true,
            ...(typeof values.config === "string" ? { config: values.config } : {}),
            ...(typeof values["state-dir"] === "string" ? { stateDir: values["state-dir"] } : {}),
            ...(typeof values.kubeconfig === "string" ? { kubeconfig: values.kubeconfig } : {}),
            ...(role ? { memberRole: role } : {}),
          },
          io,
        );
      }
      case "rollback": {
        const { values, positionals } = parse(rest, {
          table: { type: "string" },
          region: { type: "string" },
          kubeconfig: { type: "string" },
          "dry-run": { type: "boolean" },
          ...MEMBER_ROLE,
        });
        if (values.help) return help(io);
        const [outcomeId, ...more] = positionals;
        if (outcomeId === undefined || more.length > 0) return usageError(io, "rollback needs exactly one OUTCOME_ID");
        const role = memberRoleOption(values["role-arn"], values["external-id"]);
        if (typeof role === "string") return usageError(io, role);
        return await rollback(
          {
            outcomeId,
            yes: values.yes === true,
            json: values.json === true,
            dryRun: values["dry-run"] === true,
            stateDir: stateDir(io, typeof values["state-dir"] === "string" ? values["state-dir"] : undefined),
            ...tableSource(values.table, values.region, io),
            ...(typeof values.kubeconfig === "string" ? { kubeconfig: values.kubeconfig } : {}),
            ...(role ? { memberRole: role } : {}),
          },
          io,
        );
      }
      case "patch": {
        const { values, positionals } = parse(rest, {
          cluster: { type: "string" },
          nodegroup: { type: "string" },
          region: { type: "string" },
          "no-reboot": { type: "boolean" },
          "dry-run": { type: "boolean" },
          ...MEMBER_ROLE,
        });
        if (values.help) return help(io);
        if (positionals.length > 0)
          return usageError(io, `patch takes no positional arguments (got ${positionals.join(" ")})`);
        const cluster = typeof values.cluster === "string" ? values.cluster : undefined;
        if (!cluster) return usageError(io, "patch needs --cluster NAME");
        const region =
          (typeof values.region === "string" ? values.region : undefined) ??
          io.env.AWS_REGION ??
          io.env.AWS_DEFAULT_REGION;
        if (!region) return usageError(io, "patch needs --region REGION (or AWS_REGION)");
        const role = memberRoleOption(values["role-arn"], values["external-id"]);
        if (typeof role === "string") return usageError(io, role);
        return await patch(
          {
            cluster,
            ...(typeof values.nodegroup === "string" ? { nodegroup: values.nodegroup } : {}),
            region,
            reboot: values["no-reboot"] ? "NoReboot" : "RebootIfNeeded",
            dryRun: values["dry-run"] === true,
            yes: values.yes === true,
            json: values.json === true,
            stateDir: stateDir(io, typeof values["state-dir"] === "string" ? values["state-dir"] : undefined),
            ...(role ? { memberRole: role } : {}),
          },
          io,
        );
      }
      case "audit": {
        const { values, positionals } = parse(rest, {
          since: { type: "string" },
          cluster: { type: "string" },
          table: { type: "string" },
          region: { type: "string" },
          limit: { type: "string" },
        });
        if (values.help) return help(io);
        if (positionals.length > 0)
          return usageError(io, `audit takes no positional arguments (got ${positionals.join(" ")})`);
        const limit = typeof values.limit === "string" ? Number(values.limit) : 100;
        if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
          return usageError(io, "--limit must be a number from 1 to 10000");
        const table = (typeof values.table === "string" ? values.table : undefined) ?? io.env.EKS_RESPONDER_TABLE;
        const region = (typeof values.region === "string" ? values.region : undefined) ?? io.env.AWS_REGION;
        return await audit(
          {
            ...(table ? { table } : {}),
            ...(region ? { region } : {}),
            ...(typeof values.since === "string" ? { since: values.since } : {}),
            ...(typeof values.cluster === "string" ? { cluster: values.cluster } : {}),
            json: values.json === true,
            limit,
            stateDir: stateDir(io, typeof values["state-dir"] === "string" ? values["state-dir"] : undefined),
          },
          io,
        );
      }
      case "report": {
        const { values, positionals } = parse(rest, {
          since: { type: "string" },
          until: { type: "string" },
          table: { type: "string" },
          region: { type: "string" },
        });
        if (values.help) return help(io);
        if (positionals.length > 0)
          return usageError(io, `report takes no positional arguments (got ${positionals.join(" ")})`);
        if (values.yes) return usageError(io, "--yes does not go with report (it changes nothing)");
        return await report(
          {
            ...tableSource(values.table, values.region, io),
            ...(typeof values.since === "string" ? { since: values.since } : {}),
            ...(typeof values.until === "string" ? { until: values.until } : {}),
            json: values.json === true,
            stateDir: stateDir(io, typeof values["state-dir"] === "string" ? values["state-dir"] : undefined),
          },
          io,
        );
      }
      case "redrive": {
        const { values, positionals } = parse(rest, {
          "queue-url": { type: "string" },
          function: { type: "string" },
          max: { type: "string" },
          region: { type: "string" },
        });
        if (values.help) return help(io);
        if (positionals.length > 0)
          return usageError(io, `redrive takes no positional arguments (got ${positionals.join(" ")})`);
        const queueUrl = typeof values["queue-url"] === "string" ? values["queue-url"] : undefined;
        const functionName = typeof values.function === "string" ? values.function : undefined;
        if (!queueUrl || !functionName) return usageError(io, "redrive needs --queue-url URL and --function NAME");
        const max = typeof values.max === "string" ? Number(values.max) : 100;
        if (!Number.isInteger(max) || max < 1 || max > 10_000)
          return usageError(io, "--max must be a number from 1 to 10000");
        const region = (typeof values.region === "string" ? values.region : undefined) ?? io.env.AWS_REGION;
        return await redrive(
          {
            queueUrl,
            functionName,
            max,
            yes: values.yes === true,
            json: values.json === true,
            ...(region ? { region } : {}),
          },
          io,
        );
      }
      case "kubernetes-rbac": {
        // Only its own options: --json, --yes and --state-dir mean nothing here and are refused.
        const { values, positionals } = parseArgs({
          args: rest,
          allowPositionals: true,
          strict: true,
          options: { group: { type: "string" }, help: { type: "boolean", short: "h" } },
        });
        if (values.help) return help(io);
        if (positionals.length > 0)
          return usageError(io, `kubernetes-rbac takes no positional arguments (got ${positionals.join(" ")})`);
        return kubernetesRbac({ group: values.group ?? DEFAULT_KUBERNETES_GROUP }, io);
      }
      default:
        return usageError(io, `unknown command "${command}"`);
    }
  } catch (error) {
    // parseArgs reports unknown or malformed options with a TypeError whose message names the option.
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      return usageError(io, error.message);
    }
    throw error;
  }
}

function tableSource(table: unknown, region: unknown, io: Io): { table?: string; region?: string } {
  const t = (typeof table === "string" ? table : undefined) ?? io.env.EKS_RESPONDER_TABLE;
  const r = (typeof region === "string" ? region : undefined) ?? io.env.AWS_REGION;
  return { ...(t ? { table: t } : {}), ...(r ? { region: r } : {}) };
}

function help(io: Io): number {
  io.stdout.write(USAGE);
  return 0;
}
