import { escapeTerminal, terminalSafeJson } from "@eks-responder/core";
import { type Io, painter } from "./terminal.ts";

export interface RedriveOptions {
  queueUrl: string;
  functionName: string;
  region?: string;
  max: number;
  yes: boolean;
  json: boolean;
}

export interface RedriveResult {
  messageId: string;
  /** redriven: the respond function handled it (and the message was deleted); failed: it was kept in the queue. */
  status: "redriven" | "failed" | "unreadable";
  outcome?: string;
  error?: string;
}

/**
 * `eks-responder redrive`: takes the events out of the dead-letter queue and hands each to the respond function again,
 * through the same idempotent path (an event already handled is reported as a duplicate). A message is deleted only
 * once the function handled it; a failure leaves it in the queue, visible again after its visibility timeout.
 */
export async function redrive(options: RedriveOptions, io: Io): Promise<number> {
  if (!options.yes) {
    if (!io.prompt) {
      io.stderr.write("eks-responder: redrive confirms on a terminal, and standard input is not one; add --yes\n");
      return 2;
    }
    const answer = (
      await io.prompt(
        `Redrive up to ${options.max} events from ${escapeTerminal(options.queueUrl, { links: "keep" })} to ${escapeTerminal(options.functionName, { links: "keep" })}? [y/N] `,
      )
    )
      .trim()
      .toLowerCase();
    if (answer !== "y" && answer !== "yes") {
      io.stdout.write("nothing was changed\n");
      return 0;
    }
  }
  const { SQSClient, ReceiveMessageCommand, DeleteMessageCommand } = await import("@aws-sdk/client-sqs");
  const { LambdaClient, InvokeCommand } = await import("@aws-sdk/client-lambda");
  const config = options.region ? { region: options.region } : {};
  const sqs = new SQSClient(config);
  const lambda = new LambdaClient(config);
  const results: RedriveResult[] = [];
  while (results.length < options.max) {
    const batch = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, options.max - results.length),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
        MessageAttributeNames: ["All"],
      }),
    );
    const messages = batch.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      const messageId = message.MessageId ?? "unknown";
      let payload: string;
      try {
        payload = JSON.stringify(JSON.parse(message.Body ?? ""));
      } catch {
        results.push({ messageId, status: "unreadable", error: "the message body is not JSON: kept in the queue" });
        continue;
      }
      const invoked = await lambda.send(
        new InvokeCommand({
          FunctionName: options.functionName,
          InvocationType: "RequestResponse",
          Payload: new TextEncoder().encode(payload),
        }),
      );
      const response = invoked.Payload ? new TextDecoder().decode(invoked.Payload) : "";
      if (invoked.FunctionError) {
        results.push({ messageId, status: "failed", error: `${invoked.FunctionError}: ${response.slice(0, 500)}` });
        continue;
      }
      let outcome: string | undefined;
      try {
        const parsed = JSON.parse(response) as { outcome?: unknown; duplicate?: unknown };
        outcome =
          parsed.duplicate === true ? "duplicate" : typeof parsed.outcome === "string" ? parsed.outcome : undefined;
      } catch {
        outcome = undefined;
      }
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle ?? "" }),
      );
      results.push({ messageId, status: "redriven", ...(outcome ? { outcome } : {}) });
    }
  }
  if (options.json) io.stdout.write(`${terminalSafeJson({ results })}\n`);
  else {
    const paint = painter(io.stdout, io.env);
    for (const r of results) {
      io.stdout.write(
        `${r.messageId}  ${paint(r.status === "redriven" ? "green" : ["bold", "red"], r.status)}${r.outcome ? ` ${r.outcome}` : ""}${r.error ? `  ${escapeTerminal(r.error)}` : ""}\n`,
      );
    }
    io.stdout.write(
      `${results.length} message(s): ${results.filter((r) => r.status === "redriven").length} redriven, ${results.filter((r) => r.status !== "redriven").length} kept in the queue\n`,
    );
  }
  return results.some((r) => r.status !== "redriven") ? 1 : 0;
}
