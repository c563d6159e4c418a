import {
  type Assessment,
  type Decision,
  escapeTerminal,
  halfDoneNotice,
  type OutcomeStatus,
  type PlanStep,
  stillApplied,
} from "@eks-responder/core";
import { callsPhrase, countsPhrase } from "@eks-responder/core/pipeline/plan-text.ts";
import type { AppliedAssessment } from "./apply.ts";
import type { FileResult, ReplaySummary } from "./replay.ts";
import type { painter } from "./terminal.ts";

type Paint = ReturnType<typeof painter>;

const OUTCOME_STYLE: Record<OutcomeStatus, Parameters<Paint>[0]> = {
  apply: ["bold", "red"],
  applied: ["bold", "green"],
  failed: ["bold", "red"],
  "pending-approval": ["bold", "yellow"],
  "dry-run": ["bold", "cyan"],
  alert: ["bold", "magenta"],
  skipped: "dim",
  invalid: ["bold", "red"],
};

const SEVERITY_STYLE: Record<Assessment["severity"], Parameters<Paint>[0]> = {
  critical: ["bold", "red"],
  high: "red",
  medium: "yellow",
  low: "dim",
};

const LABEL_WIDTH = 11;

function line(paint: Paint, label: string, text: string): string {
  return `  ${paint("dim", label.padEnd(LABEL_WIDTH))}${text}\n`;
}

function more(text: string): string {
  return `  ${" ".repeat(LABEL_WIDTH)}${text}\n`;
}

function formatAssessment(a: Assessment, d: Decision | undefined, paint: Paint): string {
  let out = line(
    paint,
    a.severity.toUpperCase(),
    `${paint(SEVERITY_STYLE[a.severity], escapeTerminal(a.title))} ${paint("dim", `[${a.detectorId}]`)}`,
  );
  for (const e of a.evidence) out += more(paint("dim", escapeTerminal(e)));
  if (!d) return out;
  const mode = d.skipped
    ? `skipped (${d.skipped})`
    : `${d.mode}${d.dryRun && (d.mode === "auto" || d.mode === "approve") ? ", dry-run" : ""}`;
  out += line(paint, "decision", paint("bold", mode));
  for (const reason of d.reasons) out += more(`- ${escapeTerminal(reason)}`);
  if (d.notify.length) out += more(`notify: ${d.notify.map((n) => escapeTerminal(n)).join(", ")}`);
  return out;
}

function formatStep(step: PlanStep, paint: Paint): string {
  const call = `${step.service}:${step.operation} ${escapeTerminal(JSON.stringify(step.params))}`;
  return `${more(call)}${step.note ? more(paint("dim", `  ${escapeTerminal(step.note)}`)) : ""}`;
}

/** One event, for a person: what it is, what is wrong, what would be done and why. */
export function formatResult(result: FileResult, paint: Paint): string {
  let out = `${paint("bold", escapeTerminal(result.file, { links: "keep" }))}\n`;
  if (result.rules)
    out += line(
      paint,
      "rule",
      result.rules.length > 0
        ? `${result.rules.join(", ")} would deliver it`
        : paint(
            ["bold", "yellow"],
            "NONE matches: no deployed EventBridge rule would deliver this event, it would never reach the respond function",
          ),
    );
  const s = result.signal;
  if (s) {
    const who = s.actor ? ` · by ${s.actor}` : "";
    const sample = s.sample ? " · GuardDuty SAMPLE" : "";
    out += line(
      paint,
      "signal",
      escapeTerminal(`${s.source} ${s.name} · ${s.account} ${s.region} · ${s.time}${who}${sample}`),
    );
  }
  for (const a of result.assessments) {
    out += formatAssessment(
      a,
      result.decisions.find((d) => d.assessmentId === a.id),
      paint,
    );
  }
  for (const d of result.decisions.filter((x) => !result.assessments.some((a) => a.id === x.assessmentId))) {
    out += line(paint, "decision", `${d.mode}: ${d.reasons.map((n) => escapeTerminal(n)).join("; ")}`);
  }
  if (result.plan.length) {
    out += line(paint, "plan", callsPhrase(result.plan));
    for (const step of result.plan) out += formatStep(step, paint);
  }
  out += line(
    paint,
    "outcome",
    `${paint(OUTCOME_STYLE[result.outcome], result.outcome.toUpperCase())} ${escapeTerminal(result.reason)}`,
  );
  for (const issue of result.error?.issues ?? [])
    out += more(`- ${escapeTerminal(issue.path)}: ${escapeTerminal(issue.message)}`);
  return `${out}\n`;
}

const APPLY_STYLE: Record<string, Parameters<Paint>[0]> = {
  applied: ["bold", "green"],
  "already-done": "green",
  "would-succeed": "cyan",
  refused: "yellow",
  failed: ["bold", "red"],
};

/** What --apply carried out for one event: each action's status, reason and calls. */
export function formatApplied(applied: readonly AppliedAssessment[], paint: Paint): string {
  let out = "";
  for (const a of applied) {
    if (a.declined) {
      out += line(paint, "applied", `${paint("yellow", "DECLINED")} ${a.assessmentId}: nothing was changed`);
      continue;
    }
    for (const r of a.results) {
      out += line(
        paint,
        "applied",
        `${paint(APPLY_STYLE[r.status] ?? "bold", r.status.toUpperCase())} ${r.action}: ${escapeTerminal(r.reason)}`,
      );
      for (const c of r.calls)
        out += more(
          paint("dim", `${c.service}:${c.operation} → ${c.result}${c.error ? ` (${escapeTerminal(c.error)})` : ""}`),
        );
      if (r.rolledBack !== undefined)
        out += more(
          r.rolledBack
            ? "the steps made before the failure were rolled back"
            : paint("red", "ROLLBACK INCOMPLETE: check the calls above"),
        );
      if (r.undone) {
        const ok = r.undone.status === "applied" || r.undone.status === "already-done";
        out += more(
          `${paint(ok ? "green" : ["bold", "red"], ok ? "UNDONE" : "NOT UNDONE")} after the failure: ${escapeTerminal(r.undone.reason)}`,
        );
        for (const c of r.undone.calls)
          out += more(
            paint("dim", `${c.service}:${c.operation} → ${c.result}${c.error ? ` (${escapeTerminal(c.error)})` : ""}`),
          );
      }
    }
    const notice = halfDoneNotice(a.assessmentId, a.results);
    if (notice) out += more(paint(["bold", "red"], escapeTerminal(notice)));
    else if (a.journal && stillApplied(a.results).length > 0)
      out += more(`undo with: eks-responder rollback ${a.assessmentId}`);
  }
  return out ? `${out}\n` : "";
}

export function formatSummary(summary: ReplaySummary, paint: Paint): string {
  const counts = Object.entries(summary.outcomes)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => `${n} ${status}`)
    .join(", ");
  const events = `${summary.files} event${summary.files === 1 ? "" : "s"}`;
  const tail = summary.applied
    ? `applied: ${
        Object.entries(summary.applied)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ") || "nothing"
      }`
    : "dry-run: nothing was changed";
  const read = summary.delivered + summary.undelivered;
  const delivery =
    summary.undelivered > 0
      ? ` · ${summary.delivered} of ${read} delivered by the deployed rules, ${paint(["bold", "yellow"], `${summary.undelivered} by none (never delivered)`)}`
      : read > 0
        ? ` · ${read === 1 ? "delivered" : `all ${read} delivered`} by the deployed rules`
        : "";
  let out = `${paint("bold", "summary")}    ${events}: ${counts || "none"} · ${countsPhrase(summary.plannedCalls - summary.plannedKubernetesCalls, summary.plannedKubernetesCalls, "planned ")}${delivery} · ${tail}\n`;
  if (summary.invalid > 0)
    out += `${paint(["bold", "red"], `${summary.invalid} file${summary.invalid === 1 ? "" : "s"} could not be read or understood (see above)`)}\n`;
  return out;
}
