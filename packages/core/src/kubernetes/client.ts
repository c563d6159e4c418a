import { request as httpsRequest } from "node:https";
import { URL } from "node:url";
import { KubeApiError, type KubeClient, type KubeRequest } from "./api.ts";

/**
 * The Kubernetes API calls eks-responder's actions make, on `node:https`. A small typed client rather than
 * `@kubernetes/client-node`: the actions need a handful of JSON calls (get, list, create, patch, delete) with a bearer
 * token and a cluster CA. Measured by bench/kubernetes-client.ts (`node bench/kubernetes-client.ts`, bundled as the
 * functions are, 11 fresh processes each, 2 shared cores under load): this client is 2 KiB bundled, imported at 103 ms
 * and its first call answered at 145 ms after process start; `@kubernetes/client-node` 2.0.1 is 1,948 KiB, imported at
 * 352 ms, first call at 402 ms. Only the first call's own share is close (39 ms against 50 ms): the difference is the
 * import, which a Lambda pays on the first Kubernetes action of each container. Responses are `unknown`: each action
 * parses what it reads with its own zod schema. It is imported only when a Kubernetes action first asks for a cluster
 * (the types and KubeApiError the other code needs are in ./api.ts).
 * @see https://kubernetes.io/docs/reference/using-api/api-concepts/
 */

export {
  KubeApiError,
  type KubeClient,
  type KubeMethod,
  type KubePatchType,
  type KubeRequest,
  type KubernetesAccess,
  kubePath,
} from "./api.ts";

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
