/**
 * Shared helpers of the action apply tests: an ApplyContext over real SDK clients (whose `send` aws-sdk-client-mock
 * replaces), AWS-shaped errors, and every command the mocks received, in the order they were sent.
 */
import { EC2ServiceException } from "@aws-sdk/client-ec2";
import { EKSServiceException } from "@aws-sdk/client-eks";
import { SSMServiceException } from "@aws-sdk/client-ssm";
import type { ApplyContext } from "../../../../packages/core/src/actions/types.ts";
import { createAwsClients } from "../../../../packages/core/src/aws/clients.ts";

export const REGION = "eu-west-1";
export const ASSESSMENT_ID = "asm-3f6c2a9d0b1e4c7a";

/** An ApplyContext whose `sleep` returns at once and records each wait. */
export function applyContext(dryRun: boolean): { ctx: ApplyContext; waits: number[] } {
  const waits: number[] = [];
  const ctx: ApplyContext = {
    dryRun,
    assessmentId: ASSESSMENT_ID,
    account: "111122223333",
    region: REGION,
    clients: createAwsClients(REGION),
    exemptTags: [],
    sleep: async (ms: number) => {
      waits.push(ms);
    },
  };
  return { ctx, waits };
}

function serviceError(code: string, status: number) {
  return { name: code, $fault: "client" as const, $metadata: { httpStatusCode: status }, message: `${code} (test)` };
}

/** An EC2 error as the SDK throws it: `name` is the EC2 error code. */
export function ec2Error(code: string, status = 400): EC2ServiceException {
  return new EC2ServiceException(serviceError(code, status));
}

export function eksError(code: string, status = 400): EKSServiceException {
  return new EKSServiceException(serviceError(code, status));
}

export function ssmError(code: string, status = 400): SSMServiceException {
  return new SSMServiceException(serviceError(code, status));
}

/** One command a mocked client received: the IAM-style service prefix, the operation name and its exact input. */
export interface Sent {
  service: string;
  command: string;
  input: unknown;
}

interface RecordedCall {
  args: readonly unknown[];
  calledBefore(other: RecordedCall): boolean;
}

/** The minimal shape of an aws-sdk-client-mock stub this file needs. */
export interface MockStub {
  calls(): readonly RecordedCall[];
}

function commandName(command: unknown): string {
  const name = typeof command === "object" && command !== null ? command.constructor.name : "Unknown";
  return name.replace(/Command$/, "");
}

function inputOf(command: unknown): unknown {
  return typeof command === "object" && command !== null && "input" in command ? command.input : undefined;
}

/** Every command the stubs received, across clients, in the order they were sent. */
export function sentInOrder(stubs: Record<string, MockStub>): Sent[] {
  const all = Object.entries(stubs).flatMap(([service, stub]) => stub.calls().map((call) => ({ service, call })));
  all.sort((a, b) => (a.call.calledBefore(b.call) ? -1 : b.call.calledBefore(a.call) ? 1 : 0));
  return all.map(({ service, call }) => ({
    service,
    command: commandName(call.args[0]),
    input: inputOf(call.args[0]),
  }));
}

/** `[command, input]` pairs of what the stubs received, in order (the shape most assertions compare). */
export function commandsSent(stubs: Record<string, MockStub>): [string, unknown][] {
  return sentInOrder(stubs).map((s) => [s.command, s.input]);
}

/** The names of the commands the stubs received, in order. */
export function namesSent(stubs: Record<string, MockStub>): string[] {
  return sentInOrder(stubs).map((s) => s.command);
}
