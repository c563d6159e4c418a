import type { Settings } from "./naming.ts";

/**
 * The dead-letter queue of the event pipeline: events EventBridge could not deliver to the respond function, and
 * invocations of it that failed after Lambda's own retries. 14 days (the SQS maximum) to look and replay; encrypted
 * with SQS-managed keys, which EventBridge and Lambda destinations can write to without a key policy.
 */
export function createDeadLetterQueue(settings: Settings) {
  return new aws.sqs.Queue("DeadLetterQueue", {
    name: settings.deadLetterQueueName,
    messageRetentionSeconds: 14 * 24 * 3600,
    sqsManagedSseEnabled: true,
  });
}
