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

/**
 * Makes text from an event safe to print on a terminal: control characters (ANSI escapes, carriage returns, bells)
 * and bidirectional overrides (which reorder what is shown, "Trojan Source") are shown as `\u001b`-style escapes
 * instead of being interpreted.
 */
export function safe(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const control =
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      code === 0x2028 ||
      code === 0x2029 ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069);
    out += control ? `\\u${code.toString(16).padStart(4, "0")}` : char;
  }
  return out;
}
