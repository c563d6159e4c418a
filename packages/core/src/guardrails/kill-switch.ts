/**
 * The kill switch: one SSM parameter that, when on, drops every automatic and approval decision to an alert. It is
 * read through the reader the handler passes (Powertools' `getParameter`), and cached briefly so a burst of events
 * costs one read.
 *
 * Per account (hub mode): a value that lists 12-digit account ids (comma or space separated, such as
 * `111122223333,444455556666`) pauses those accounts only: decisions about them drop to alerts, the other accounts run.
 * A caller that does not say which account it acts in reads such a value as on.
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

/** On, off, or the accounts paused. */
type State = boolean | ReadonlySet<string>;

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

/** The accounts a value pauses (a list of account ids), or undefined when it is not such a list. */
export function pausedAccounts(value: string): ReadonlySet<string> | undefined {
  const ids = value
    .split(/[\s,]+/)
    .map((v) => v.trim())
    .filter((v) => v !== "");
  if (ids.length === 0 || !ids.every((id) => /^\d{12}$/.test(id))) return undefined;
  return new Set(ids);
}

/**
 * A kill switch over `read`: resolves true when it is on for `account` (on for all, the account paused, or it cannot be
 * known), false when it is off. Never rejects.
 */
export function createKillSwitch(
  read: () => Promise<string | undefined>,
  options: KillSwitchOptions = {},
): (account?: string) => Promise<boolean> {
  const cacheMs = options.cacheMs ?? DEFAULT_KILL_SWITCH_CACHE_MS;
  if (!(cacheMs >= 0)) throw new RangeError(`cacheMs must be 0 or more, got ${cacheMs}`);
  const now = options.now ?? Date.now;
  let cached: { state: State; until: number } | undefined;
  let inFlight: Promise<State> | undefined;

  const report = (error: Error): void => {
    try {
      options.onError?.(error);
    } catch {
      // A failing reporter must not turn the switch off or make it throw.
    }
  };

  async function load(): Promise<State> {
    let value: string | undefined;
    try {
      value = await read();
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      report(new KillSwitchError(`kill switch unreadable, acting as if on: ${cause.message}`, { cause }));
      return true;
    }
    let state: State;
    if (value === undefined) {
      report(new KillSwitchError("kill switch parameter missing, acting as if on"));
      state = true;
    } else {
      const meaning = killSwitchValue(value) ?? pausedAccounts(value);
      if (meaning === undefined) {
        report(
          new KillSwitchError(
            `kill switch value ${JSON.stringify(value)} is neither on, off nor a list of account ids, acting as if on`,
          ),
        );
      }
      state = meaning ?? true;
    }
    cached = { state, until: now() + cacheMs };
    return state;
  }

  const onFor = (state: State, account: string | undefined): boolean =>
    typeof state === "boolean" ? state : account === undefined || state.has(account);

  return async (account) => {
    if (cached && now() < cached.until) return onFor(cached.state, account);
    // Concurrent callers share one read.
    inFlight ??= load().finally(() => {
      inFlight = undefined;
    });
    return onFor(await inFlight, account);
  };
}
