/**
 * `load()` on the first call, its promise shared by every later call; a load that fails is forgotten, so the next call
 * tries again. The functions and the store import their SDK clients through it, so a bundle loads a client when a
 * path first needs it and not at import (bench/cold-start.ts measures both).
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    if (!loading) {
      const attempt = load();
      loading = attempt;
      attempt.catch(() => {
        if (loading === attempt) loading = undefined;
      });
    }
    return loading;
  };
}
