/**
 * Headless Chromium for the browser tests (test/e2e): Debian's `chromium`, driven by playwright-core. Playwright's own
 * browser download is never used; `scripts/ensure-chromium.sh` installs the Debian package (npm test and .ci/run
 * call it).
 */
import { accessSync, constants } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const DEFAULT_CHROMIUM_PATH = "/usr/bin/chromium";

/**
 * Flags known to work on these machines: without the background-networking ones Chromium keeps opening connections
 * that the closed network refuses. Playwright adds a new empty user data dir of its own (a temporary profile,
 * removed on close): it refuses a `--user-data-dir` flag in `launch`.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Chromium to drive: CHROMIUM_PATH when set, else /usr/bin/chromium. Throws, naming the fix, when absent. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.CHROMIUM_PATH;
  const path = configured !== undefined && configured !== "" ? configured : DEFAULT_CHROMIUM_PATH;
  if (!executable(path))
    throw new Error(
      `no Chromium executable at ${path}${configured ? " (from CHROMIUM_PATH)" : ""}: ` +
        "run `bash scripts/ensure-chromium.sh` (as root it installs Debian's chromium with apt-get), " +
        "or set CHROMIUM_PATH to a Chromium executable",
    );
  return path;
}

/** A headless Chromium with the flags above. The caller closes it. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...CHROMIUM_FLAGS] });
}
