import { styleText } from "node:util";

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Asks a question on the terminal and returns the answer; absent when standard input is not a terminal. */
  prompt?: (question: string) => Promise<string>;
  /** Waits between polls of AWS (replaced by tests). */
  sleep?: (ms: number) => Promise<void>;
}

type Style = Parameters<typeof styleText>[0];

/** Colours only for a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function painter(stream: OutputStream, env: Io["env"]): (style: Style, text: string) => string {
  const enabled = stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
  return (style, text) => (enabled ? styleText(style, text, { validateStream: false }) : text);
}
