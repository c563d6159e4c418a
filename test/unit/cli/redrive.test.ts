import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { main } from "../../../packages/cli/src/main.ts";
import { captureIo } from "../../helpers/cli-io.ts";

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/eks-responder-dlq";
/** A Lambda response payload as the SDK returns it: bytes that can also turn themselves into text. */
const encode = (value: unknown) => {
  const text = JSON.stringify(value);
  return Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
};

beforeEach(() => {
  sqs.reset();
  lambda.reset();
});

describe("eks-responder redrive", () => {
  it("hands each dead-lettered event to the respond function, deletes only what was handled, and reports each", async () => {
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: "m1", ReceiptHandle: "r1", Body: JSON.stringify({ id: "e1", source: "aws.ec2" }) },
          { MessageId: "m2", ReceiptHandle: "r2", Body: JSON.stringify({ id: "e2", source: "aws.ec2" }) },
          { MessageId: "m3", ReceiptHandle: "r3", Body: "not json" },
        ],
      })
      .resolves({ Messages: [] });
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: encode({ outcome: "applied", duplicate: false }) })
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: "Unhandled",
        Payload: encode({ errorMessage: "dynamodb down" }),
      });
    const c = captureIo();
    const code = await main(
      ["redrive", "--queue-url", QUEUE, "--function", "respond", "--region", "eu-west-1", "--yes", "--json"],
      c.io,
    );
    expect(code).toBe(1);
    const report = JSON.parse(c.out()) as { results: { messageId: string; status: string; outcome?: string }[] };
    expect(report.results.map((r) => [r.messageId, r.status, r.outcome])).toEqual([
      ["m1", "redriven", "applied"],
      ["m2", "failed", undefined],
      ["m3", "unreadable", undefined],
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((call) => call.args[0].input.ReceiptHandle)).toEqual(["r1"]);
    const invoked = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(invoked?.FunctionName).toBe("respond");
    expect(new TextDecoder().decode(invoked?.Payload as Uint8Array)).toBe('{"id":"e1","source":"aws.ec2"}');
  });

  it("needs --yes when no terminal can confirm, and its two locations", async () => {
    const c = captureIo();
    expect(await main(["redrive", "--queue-url", QUEUE, "--function", "respond"], c.io)).toBe(2);
    expect(c.err()).toContain("add --yes");
    expect(await main(["redrive", "--function", "respond", "--yes"], c.io)).toBe(2);
    expect(c.err()).toContain("redrive needs --queue-url URL and --function NAME");
    expect(sqs.calls()).toHaveLength(0);
  });
});
