import type { SNSClient } from "@aws-sdk/client-sns";
import type { EventResult } from "../pipeline/types.ts";
import type { Policy } from "../policy/schema.ts";
import { fitSlackMessage, fitSnsPublish } from "./limits.ts";
import { slackMessage } from "./slack.ts";
import { snsMessage } from "./sns.ts";

/** Where notifications go. Secrets (webhook URL, bot token) come from the caller, which reads them from SSM. */
export interface NotifierConfig {
  routes: Policy["notify"]["routes"];
  sns?: SNSClient;
  slack?: { webhookUrl?: string; token?: string; apiUrl?: string };
  consoleBaseUrl?: string;
  sleep(ms: number): Promise<void>;
  /**
   * Storm control (see `digest.ts`, `slackDigest`): before a Slack post, `gate` takes the channel's slot; when it is
   * refused the outcome goes to the channel's digest (`defer`) instead. A gate or digest that fails lets the message be
   * posted as usual, so nothing is lost. SNS is not gated.
   */
  digest?: {
    gate(channel: string): Promise<boolean>;
    defer(channel: string, result: EventResult): Promise<void>;
  };
}

export interface Delivery {
  route: string;
  target: "slack" | "sns";
  ok: boolean;
  attempts: number;
  error?: string;
  /** Slack only: the channel's slot was taken, the outcome went to its digest (posted by the next flush). */
  deferred?: boolean;
}

/** Thrown when some delivery failed after its retries; the report says which. */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  readonly deliveries: Delivery[];
  constructor(deliveries: Delivery[]) {
    super(
      `notification failed: ${deliveries
        .filter((d) => !d.ok)
        .map((d) => `${d.route} (${d.target}): ${d.error}`)
        .join("; ")}`,
    );
    this.deliveries = deliveries;
  }
}

const WEBHOOK_ATTEMPTS = 4;
const BACKOFF_MS = [250, 1000, 3000];
const MAX_RETRY_AFTER_S = 30;

/**
 * Posts to a Slack incoming webhook, retrying 429 (after Retry-After, at most 30 s) and 5xx with backoff. Slack's
 * webhook package has no retry of its own (the Web API client does), hence this small loop.
 */
async function postWebhook(url: string, body: unknown, sleep: NotifierConfig["sleep"]): Promise<{ attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.ok) return { attempts: attempt };
    const retryable = response.status === 429 || response.status >= 500;
    if (!retryable || attempt >= WEBHOOK_ATTEMPTS) {
      throw Object.assign(new Error(`Slack webhook answered ${response.status}`), { attempts: attempt });
    }
    const retryAfter = Number(response.headers.get("retry-after"));
    const wait =
      Number.isFinite(retryAfter) && retryAfter > 0
        ? Math.min(retryAfter, MAX_RETRY_AFTER_S) * 1000
        : (BACKOFF_MS[attempt - 1] ?? 3000);
    await sleep(wait);
  }
}

/** The routes the outcome goes to: the union of its decisions' routes (an invalid event goes to every route). */
export function routesOf(result: EventResult, routes: NotifierConfig["routes"]): NotifierConfig["routes"] {
  if (result.outcome === "invalid") return routes;
  const names = new Set(result.decisions.flatMap((d) => d.notify));
  return routes.filter((r) => names.has(r.name));
}

/** True when the outcome went to the channel's digest; false when it is to be posted now. */
async function deferredToDigest(config: NotifierConfig, channel: string, result: EventResult): Promise<boolean> {
  if (!config.digest || !(config.slack?.token || config.slack?.webhookUrl)) return false;
  try {
    if (await config.digest.gate(channel)) return false;
    await config.digest.defer(channel, result);
    return true;
  } catch {
    // The gate or the digest is unavailable: post now (a 429 is retried) rather than lose the message.
    return false;
  }
}

export function createNotifier(config: NotifierConfig) {
  return {
    /** Delivers one outcome to its routes. Every delivery is tried; a failure is reported, never hidden. */
    async notify(result: EventResult): Promise<Delivery[]> {
      const deliveries: Delivery[] = [];
      for (const route of routesOf(result, config.routes)) {
        if (route.slack && (await deferredToDigest(config, route.slack.channel, result))) {
          deliveries.push({ route: route.name, target: "slack", ok: true, attempts: 0, deferred: true });
        } else if (route.slack) {
          // Slack's limits, checked on the finished message right before the call (limits.ts).
          const message = fitSlackMessage(
            slackMessage(result, config.consoleBaseUrl ? { consoleBaseUrl: config.consoleBaseUrl } : {}),
          );
          try {
            if (config.slack?.token) {
              const { WebClient } = await import("@slack/web-api");
              const client = new WebClient(config.slack.token, {
                ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}),
                retryConfig: { retries: WEBHOOK_ATTEMPTS - 1, factor: 2, minTimeout: 250, maxTimeout: 3000 },
              });
              await client.chat.postMessage({
                channel: route.slack.channel,
                text: message.text,
                blocks: message.blocks,
              });
              deliveries.push({ route: route.name, target: "slack", ok: true, attempts: 1 });
            } else if (config.slack?.webhookUrl) {
              const { attempts } = await postWebhook(config.slack.webhookUrl, message, config.sleep);
              deliveries.push({ route: route.name, target: "slack", ok: true, attempts });
            } else {
              deliveries.push({
                route: route.name,
                target: "slack",
                ok: false,
                attempts: 0,
                error: "no Slack webhook or token configured",
              });
            }
          } catch (error) {
            const attempts = (error as { attempts?: number }).attempts ?? 1;
            deliveries.push({
              route: route.name,
              target: "slack",
              ok: false,
              attempts,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
        if (route.sns) {
          try {
            if (!config.sns) throw new Error("no SNS client configured");
            const { PublishCommand } = await import("../aws/sns.ts");
            // SNS's limits (subject, 256 KiB with the attributes), checked right before the call (limits.ts).
            const message = fitSnsPublish(snsMessage(result));
            await config.sns.send(new PublishCommand({ TopicArn: route.sns.topicArn, ...message }));
            deliveries.push({ route: route.name, target: "sns", ok: true, attempts: 1 });
          } catch (error) {
            deliveries.push({
              route: route.name,
              target: "sns",
              ok: false,
              attempts: 1,
              error: error instanceof Error ? error.message : String(error),
            });
          }
        }
      }
      if (deliveries.some((d) => !d.ok)) throw new DeliveryError(deliveries);
      return deliveries;
    },
  };
}
