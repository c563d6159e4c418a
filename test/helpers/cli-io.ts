import type { Io } from "../../packages/cli/src/terminal.ts";

/** An `Io` for calling the CLI's `main` in a test, with what it wrote to stdout and stderr. */
export function captureIo(env: Io["env"] = {}): { io: Io; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
      env,
      cwd: process.cwd(),
    },
    out: () => out,
    err: () => err,
  };
}
