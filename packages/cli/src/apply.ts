import {
  type Assessment,
  type AwsClients,
  createAwsClients,
  type Decision,
  escapeTerminal,
  runPlaybook,
} from "@eks-responder/core";
import { LONG_UPDATE_WAIT_MS } from "@eks-responder/core/actions/types.ts";
import type { KubernetesAccess } from "@eks-responder/core/kubernetes/api.ts";
import type { ExemptTag } from "@eks-responder/core/policy/exempt-tags.ts";
import { type JournalEntry, type JournalResult, writeEntry } from "./journal.ts";
import { cliKubernetes, type Kubeconfig } from "./kubeconfig.ts";
import { clientOptionsFor, type MemberRoleOption, wrongAccount } from "./member-role.ts";
import type { FileResult } from "./replay.ts";
import type { Io } from "./terminal.ts";

/** What was carried out for one assessment. */
export interface AppliedAssessment {
  assessmentId: string;
  title: string;
  results: JournalResult[];
  /** Set when the person at the terminal declined. */
  declined?: boolean;
  journal?: string;
}

export interface ApplyOptions {
  yes: boolean;
  stateDir: string;
  /** Overrides the AWS endpoint (tests against a local server); the SDK also honours AWS_ENDPOINT_URL. */
  endpoint?: string;
  /** The policy's exemption tags, checked on the live resource by the actions (see ApplyContext). */
  exemptTags: readonly ExemptTag[];
  /** `--kubeconfig` (or `$KUBECONFIG`), read: the Kubernetes actions use its contexts instead of EKS tokens. */
  kubeconfig?: Kubeconfig;
  /** `--role-arn` (and `--external-id`): act in that member account through the role, as the hub does. */
  memberRole?: MemberRoleOption;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Applier {
  private readonly clients = new Map<string, AwsClients>();
  private readonly io: Io;
  private readonly options: ApplyOptions;
  /** One Kubernetes access per region (its cache of clusters and tokens shared), without --role-arn. */
  private readonly kubernetes: (region: string) => KubernetesAccess;

  constructor(io: Io, options: ApplyOptions) {
    this.io = io;
    this.options = options;
    this.kubernetes = cliKubernetes(options.kubeconfig, (region) => this.clientsFor(region, ""));
  }

  /** The clients of a region; with --role-arn, of the role's session named after the assessment. */
  private clientsFor(region: string, assessmentId: string): AwsClients {
    const key = this.options.memberRole ? `${region}/${assessmentId}` : region;
    let clients = this.clients.get(key);
    if (!clients) {
      clients = createAwsClients(
        region,
        clientOptionsFor(region, assessmentId, this.options.memberRole, this.options.endpoint),
      );
      this.clients.set(key, clients);
    }
    return clients;
  }

  /** Asks the person at the terminal; --yes confirms everything. */
  async confirm(question: string): Promise<boolean> {
    if (this.options.yes) return true;
    if (!this.io.prompt) return false;
    const answer = (await this.io.prompt(`${question} [y/N] `)).trim().toLowerCase();
    return answer === "y" || answer === "yes";
  }

  /**
   * Carries out the actions of every decision in auto or approve mode that is not in dry-run. Alert, skipped, exempt,
   * sample and out-of-scope decisions have no plan and are never acted on.
   */
  async applyEvent(result: FileResult): Promise<AppliedAssessment[]> {
    const applied: AppliedAssessment[] = [];
    for (const decision of result.decisions) {
      if (!isActionable(decision)) continue;
      const assessment = result.assessments.find((a) => a.id === decision.assessmentId);
      if (!assessment) continue;
      applied.push(await this.applyAssessment(result, assessment, decision));
    }
    return applied;
  }

  private async applyAssessment(
    result: FileResult,
    assessment: Assessment,
    decision: Decision,
  ): Promise<AppliedAssessment> {
    // Each step escaped on its own: the line breaks between them are this prompt's, not the event's.
    const steps = decision.plan
      .map((s) => `    ${s.service}:${s.operation} ${escapeTerminal(JSON.stringify(s.params))}`)
      .join("\n");
    const question = `\n${escapeTerminal(assessment.title)}\n  ${decision.mode === "approve" ? "needs approval" : "auto"}: ${assessment.actions.map((a) => a.action).join(", ")}\n${steps}\nApply?`;
    const base = { assessmentId: assessment.id, title: assessment.title };
    const elsewhere = wrongAccount(this.options.memberRole, assessment.account);
    if (elsewhere) {
      this.io.stderr.write(`eks-responder: ${escapeTerminal(assessment.title)}: ${elsewhere}\n`);
      return { ...base, results: [], declined: true };
    }
    if (!(await this.confirm(question))) return { ...base, results: [], declined: true };
    const clients = this.clientsFor(assessment.region, assessment.id);
    const results: JournalResult[] = await runPlaybook(
      assessment,
      {
        clients,
        // With --role-arn, the EKS tokens are signed with the assessment's own session.
        kubernetes: this.options.memberRole
          ? cliKubernetes(this.options.kubeconfig, () => clients)(assessment.region)
          : this.kubernetes(assessment.region),
        dryRun: false,
        assessmentId: assessment.id,
        account: assessment.account,
        region: assessment.region,
        sleep: this.io.sleep ?? realSleep,
        // The operator waits at the terminal: an EKS update is followed to its end (minutes), not handed to a retry.
        updateWaitMs: LONG_UPDATE_WAIT_MS,
        exemptTags: this.options.exemptTags,
      },
      {
        // The operator runs this with their own credentials and confirmed the plan as a whole: a later failure undoes
        // the earlier actions (a refusal of the undo, AccessDenied say, is recorded and the rollback command given).
        mayUndo: () => true,
      },
    );
    const entry: JournalEntry = {
      assessmentId: assessment.id,
      detectorId: assessment.detectorId,
      title: assessment.title,
      account: assessment.account,
      region: assessment.region,
      source: result.file,
      recordedAt: new Date().toISOString(),
      ...(result.signal?.time ? { eventTime: result.signal.time } : {}),
      results,
      rollbacks: [],
    };
    const journal = await writeEntry(this.options.stateDir, entry);
    return { ...base, results, journal };
  }
}

function isActionable(decision: Decision): boolean {
  return (decision.mode === "auto" || decision.mode === "approve") && !decision.dryRun && decision.plan.length > 0;
}
