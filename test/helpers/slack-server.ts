import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** What `stamp` returned when the request had arrived (set when a stamp was given). */
  at?: number;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A local stand-in for Slack: records every request and answers from a script (the last reply repeats). Listens on
 * 127.0.0.1 only; `stop()` closes it.
 */
export async function startSlackServer(
  replies: Reply[],
  options: { stamp?: () => number } = {},
): Promise<{ url: string; requests: RecordedRequest[]; stop(): Promise<void> }> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString("utf8");
    });
    req.on("end", () => {
      requests.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body,
        ...(options.stamp ? { at: options.stamp() } : {}),
      });
      const reply = replies[Math.min(requests.length - 1, replies.length - 1)] ?? { status: 200 };
      res.writeHead(reply.status, reply.headers ?? {});
      res.end(reply.body ?? "ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
