/**
 * What a Kubernetes API call is, and how it fails: the types and the error the actions, the call log and the clients
 * share. Apart from the client (kubernetes/client.ts, on `node:https`) so that the code loaded with every handler (the
 * actions' plans and the call log) carries none of the client: it is imported when a Kubernetes action first runs
 * (test/unit/infra/bundles.test.ts checks the respond bundle).
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/
 */
export type KubeMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Content types of PATCH. The actions use merge patches and strategic merge patches only (no JSON patch). */
export type KubePatchType = "application/merge-patch+json" | "application/strategic-merge-patch+json";

export interface KubeRequest {
  method: KubeMethod;
  /** The API path, e.g. `/api/v1/namespaces/default/pods/web-1`: already escaped (see `kubePath`). */
  path: string;
  /** Query parameters (labelSelector, dryRun=All, ...). */
  query?: Record<string, string>;
  /** A JSON body: the object (POST/PUT), the patch (PATCH) or DeleteOptions (DELETE). */
  body?: unknown;
  /** The PATCH content type; `application/merge-patch+json` when absent. */
  patchType?: KubePatchType;
}

/**
 * A Kubernetes API error: the HTTP status and the `Status` object's `reason` (NotFound, Conflict, Forbidden,
 * AlreadyExists, Invalid, ...) when the server sent one.
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
 */
export class KubeApiError extends Error {
  override name = "KubeApiError";
  /** `Kubernetes.<reason>`: what outcomes and the retry classification (guardrails/faults.ts) read. */
  readonly code: string;
  readonly status: number;
  readonly reason: string;
  readonly method: KubeMethod;
  readonly path: string;

  constructor(status: number, reason: string, message: string, request: KubeRequest, options?: { cause?: unknown }) {
    super(`${request.method} ${request.path}: ${status} ${reason}: ${message}`, options);
    this.code = `Kubernetes.${reason}`;
    this.status = status;
    this.reason = reason;
    this.method = request.method;
    this.path = request.path;
  }
}

export interface KubeClient {
  /** The API server's URL (`https://…`), for messages. */
  readonly server: string;
  /** Sends one call; resolves with the parsed JSON body, rejects with `KubeApiError` for any non-2xx answer. */
  request(req: KubeRequest): Promise<unknown>;
}

/** How a Kubernetes client for one EKS cluster is obtained (an EKS token, or a kubeconfig context in the CLI). */
export type KubernetesAccess = (cluster: string) => Promise<KubeClient>;

/** Escapes each segment of an API path: `kubePath("api", "v1", "namespaces", ns, "pods", name)`. */
export function kubePath(...segments: string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
}
