/**
 * The kill switch: one SSM parameter that, when on, drops every automatic and approval decision to an alert. It is
 * read through the reader the handler passes (Powertools' `getParameter`), and cached briefly so a burst of events
 * costs one read.
 *
 * It fails closed: a parameter that cannot be read, is missing, or holds a value that is neither on nor off reads as ON
 * (alert, don't act), and the problem is reported through `onError`. Failed reads are not cached, so the switch
 * recovers on the first call after SSM does.
 */

export interface KillSwitchOptions {
  /** How long a value read is trusted, in milliseconds (default 30 s). */
  cacheMs?: number;
  /** The clock, in epoch milliseconds (default `Date.now`). */
  now?: () => number;
  /** Told when the switch reads as on because of a problem: an error, a missing parameter, an unknown value. */
  onError?: (error: Error) => void;
}

export const DEFAULT_KILL_SWITCH_CACHE_MS = 30_000;

const ON_VALUES = new Set(["on", "true", "1"]);
const OFF_VALUES = new Set(["off", "false", "0", ""]);

export class KillSwitchError extends Error {
  override name = "KillSwitchError";
}

/** What a parameter value means: true (on), false (off), or undefined when it is neither. Trimmed, any case. */
export function killSwitchValue(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (ON_VALUES.has(v)) return true;
  if (OFF_VALUES.has(v)) return false;
  return undefined;
}

/** A kill switch over `read`: resolves true when it is on (or cannot be known), false when it is off. Never rejects. */
export function createKillSwitch(
  read: () => Promise<string | undefined>,
  options: KillSwitchOptions = {},
): () => Promise<boolean> {
  const cacheMs = options.cacheMs ?? DEFAULT_KILL_SWITCH_CACHE_MS;
  if (!(cacheMs >= 0)) throw new RangeError(`cacheMs must be 0 or more, got ${cacheMs}`);
  const now = options.now ?? Date.now;
  let cached: { on: boolean; until: number } | undefined;
  let inFlight: Promise<boolean> | undefined;

  const report = (error: Error): void => {
    try {
      options.onError?.(error);
    } catch {
      // A failing reporter must not turn the switch off or make it throw.
    }
  };

  async function load(): Promise<boolean> {
    let value: string | undefined;
    try {
      value = await read();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      report(new KillSwitchError(`kill switch unreadable, acting as if on: ${cause.message}`, { cause }));
      return true;
    }
    let on: boolean;
    if (value === undefined) {
      report(new KillSwitchError("kill switch parameter missing, acting as if on"));
      on = true;
    } else {
      const meaning = killSwitchValue(value);
      if (meaning === undefined) {
        report(
          new KillSwitchError(`kill switch value ${JSON.stringify(value)} is neither on nor off, acting as if on`),
        );
      }
      on = meaning ?? true;
    }
    cached = { on, until: now() + cacheMs };
    return on;
  }

  return async () => {
    if (cached && now() < cached.until) return cached.on;
    // Concurrent callers share one read.
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
