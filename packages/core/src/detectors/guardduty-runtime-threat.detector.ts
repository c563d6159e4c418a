import * as z from "../zod.ts";
import { severityFromGuardDuty } from "./common.ts";
import { assessFinding, isolateNode } from "./guardduty-common.ts";
import { runtimeShowsCompromise } from "./guardduty-families.ts";
import type { DetectorDefinition } from "./types.ts";

const settings = z._default(z.strictObject({}), {});

export const guardDutyRuntimeThreat: DetectorDefinition<typeof settings> = {
  id: "guardduty-runtime-threat",
  title: "GuardDuty: malware, crypto-mining or command-and-control at runtime",
  summary:
    "GuardDuty Runtime Monitoring findings on EKS (`*:Runtime/*`, for example `CryptoCurrency:Runtime/BitcoinTool.B`, " +
    "`Backdoor:Runtime/C&CActivity.B`): a process on a node or in a pod doing what malware does. The process is " +
    "the actor, the pod or node it runs on (and any target process or file) the target. When the finding shows " +
    "compromise (purpose Backdoor, CryptoCurrency, Trojan or Impact, or severity High or Critical) the playbook " +
    "isolates the node that runs it, so the process loses the network while its disks are kept for forensics; " +
    "otherwise the team is alerted.",
  triggers: ["aws.guardduty *:Runtime/* on an EKS cluster or node"],
  actions: ["ec2:isolate-instance"],
  defaultMode: "approve",
  defaultModeReason: "isolation takes a node and every pod on it out of service; a human confirms first",
  settings,
  detect(signal) {
    return assessFinding(signal, guardDutyRuntimeThreat.id, "runtime-threat", (s) => {
      if (!runtimeShowsCompromise(s)) {
        return {
          notes: [
            `a ${severityFromGuardDuty(s.severity)}-severity ${s.findingType} finding does not show the node is compromised: inspect the process and the pod before taking the node out of service`,
          ],
        };
      }
      const isolate = isolateNode(s);
      return isolate
        ? { actions: [isolate] }
        : { notes: ["the finding names no instance: find the node running the pod and isolate it by hand"] };
    });
  },
};
