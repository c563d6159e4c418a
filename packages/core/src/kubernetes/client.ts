import { request as httpsRequest } from "node:https";
import { URL } from "node:url";

/**
 * The Kubernetes API calls eks-responder's actions make, on `node:https`. A small typed client rather than
 * `@kubernetes/client-node`: the actions need a handful of JSON calls (get, list, create, patch, delete) with a bearer
 * token and a cluster CA, and the respond bundle must not carry a general client it loads on every cold start (measured
 * in docs/kubernetes.md). Responses are `unknown`: each action parses what it reads with its own zod schema.
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

export interface KubeClientOptions {
  /** `https://host:port` of the API server. */
  server: string;
  /** The cluster CA, PEM. */
  caPem: string;
  /** A bearer token, read before every call (an EKS token expires after 60 s, so the provider renews it). */
  token: () => string | Promise<string>;
  /** Per-call timeout; 10 s when absent. */
  timeoutMs?: number;
}

/** Escapes each segment of an API path: `kubePath("api", "v1", "namespaces", ns, "pods", name)`. */
export function kubePath(...segments: string[]): string {
  return `/${segments.map((s) => encodeURIComponent(s)).join("/")}`;
}

/** Largest response body read (a list of every pod of a big cluster stays well under it). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

interface StatusBody {
  reason?: unknown;
  message?: unknown;
}

export function createKubeClient(options: KubeClientOptions): KubeClient {
  const base = new URL(options.server);
  if (base.protocol !== "https:") throw new Error(`Kubernetes API server must be https: ${options.server}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    server: options.server,
    async request(req: KubeRequest): Promise<unknown> {
      const token = await options.token();
      const url = new URL(req.path, base);
      for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
      const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
      const headers: Record<string, string> = { accept: "application/json", authorization: `Bearer ${token}` };
      if (payload) {
        headers["content-type"] =
          req.method === "PATCH" ? (req.patchType ?? "application/merge-patch+json") : "application/json";
        headers["content-length"] = String(payload.length);
      }
      return new Promise<unknown>((resolve, reject) => {
        const call = httpsRequest(
          url,
          { method: req.method, headers, ca: options.caPem, timeout: timeoutMs },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on("data", (chunk: Buffer) => {
              size += chunk.length;
              if (size > MAX_RESPONSE_BYTES) {
                res.destroy(new Error(`response larger than ${MAX_RESPONSE_BYTES} bytes`));
                return;
              }
              chunks.push(chunk);
            });
            res.on("error", (e) => reject(new KubeApiError(0, "ResponseError", e.message, req, { cause: e })));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let body: unknown;
              try {
                body = text === "" ? {} : JSON.parse(text);
              } catch {
                body = undefined;
              }
              const status = res.statusCode ?? 0;
              if (status >= 200 && status < 300) {
                if (body === undefined) {
                  reject(new KubeApiError(status, "InvalidResponse", "the body is not JSON", req));
                  return;
                }
                resolve(body);
                return;
              }
              const s = (typeof body === "object" && body !== null ? body : {}) as StatusBody;
              const reason = typeof s.reason === "string" && s.reason !== "" ? s.reason : `HTTP${status}`;
              const message = typeof s.message === "string" ? s.message : text.slice(0, 500);
              reject(new KubeApiError(status, reason, message, req));
            });
          },
        );
        call.on("timeout", () => call.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        call.on("error", (e) => reject(new KubeApiError(0, "RequestError", e.message, req, { cause: e })));
        if (payload) call.write(payload);
        call.end();
      });
    },
  };
}
