/**
 * The seed of every property test (vitest `setupFiles`). In CI (`CI=true`) one fixed seed, so a commit gets the same
 * verdict on every run and a failure there is replayed exactly by `CI=true npx vitest run <file>`; anywhere else a new
 * seed each run, so local runs keep exploring, and fast-check prints the seed and the counterexample of a failure.
 * `FC_SEED=<n>` replays any seed fast-check printed.
 */
import fc from "fast-check";

export const CI_SEED = 20261202;

/** The seed for an environment: `FC_SEED` when set, the fixed one in CI, else none (fast-check picks one). */
export function seedFor(env: Record<string, string | undefined>): number | undefined {
  const given = env.FC_SEED;
  if (given !== undefined && given !== "") {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed))
      throw new Error(`FC_SEED must be an integer (fast-check prints one), got "${given}"`);
    return seed;
  }
  return env.CI === "true" ? CI_SEED : undefined;
}

const seed = seedFor(process.env);
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
