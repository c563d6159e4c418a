/** An in-memory `ApprovalStore`, for tests only: the deployment keeps approvals in DynamoDB. */
import type { ApprovalRecord, ApprovalStore } from "../../../packages/core/src/approval/links.ts";

export class MemoryApprovalStore implements ApprovalStore {
  readonly records = new Map<string, ApprovalRecord>();
  /** approval id → the nonce of the request that used it. */
  readonly used = new Map<string, string>();

  put(record: ApprovalRecord): void {
    this.records.set(record.approvalId, record);
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.records.get(approvalId);
  }

  async markUsed(approvalId: string, nonce: string): Promise<boolean> {
    if (this.used.has(approvalId)) return false;
    this.used.set(approvalId, nonce);
    return true;
  }
}
