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

/**
 * `make()` on the first call, its value kept for every later call: for schemas only a path that needs them builds.
 * Building a zod schema is work at import (each node is constructed and its checks set up), and the respond function
 * imports every action's definition while most events plan no action: the actions' params schemas are built the first
 * time one is planned (bench/cold-start.ts measures the import).
 */
export function builtOnce<T>(make: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: make() };
    return built.value;
  };
}
