import { parseArgs } from "node:util";
import { replay } from "./replay.ts";
import type { Io } from "./terminal.ts";

const USAGE = `Usage: eks-responder <command> [options]

Commands:
  replay [--json] [--config FILE] PATH...   Run events through parse → assess → decide → plan and show, per event,
                                            what eks-responder would do and why. PATH is an event file or a folder
                                            of .json event files. Dry-run: nothing in AWS is touched.
  help                                      Show this help.

Exit codes: 0 every event was read and understood; 2 some input was unreadable or invalid (the others are still
processed), or the command line or policy file was wrong.
`;

function usageError(io: Io, message: string): number {
  io.stderr.write(`eks-responder: ${message}\n\n${USAGE}`);
  return 2;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? io.stderr : io.stdout).write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "replay") return usageError(io, `unknown command "${command}"`);
  let parsed: ReturnType<typeof parseReplayArgs>;
  try {
    parsed = parseReplayArgs(rest);
  } catch (error) {
    return usageError(io, error instanceof Error ? error.message : String(error));
  }
  if (parsed.values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length === 0) return usageError(io, "replay needs at least one event file or folder");
  return replay(
    {
      paths: parsed.positionals,
      json: parsed.values.json === true,
      ...(parsed.values.config ? { config: parsed.values.config } : {}),
    },
    io,
  );
}

function parseReplayArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: "boolean" },
      config: { type: "string", short: "c" },
      help: { type: "boolean", short: "h" },
    },
  });
}
