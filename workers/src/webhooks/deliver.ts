import {
  claimAttempt,
  earlierPending,
  findDelivery,
  findEndpoint,
  overdueDeliveries,
  postponeDelivery,
  recordAttempt,
  wakeNextOfVideo,
} from "../db/webhooks.ts";
import { MAX_ATTEMPTS, MAX_DELAY_SEC, retryDelaySec, signatureHeaders, webhookTimings } from "./policy.ts";

/**
 * Delivery: the row in D1 is the source of truth; a queue message only says "look at delivery X".
 * Each message makes at most one attempt, and a failed attempt is scheduled again by sending a new
 * message with a delay (so the schedule can last longer than a queue's own retries allow). A lost
 * message costs nothing: the minute cron re-enqueues pending deliveries that are overdue.
 */

export const WEBHOOK_QUEUE = "webhooks";
export const WEBHOOK_DEAD_LETTER_QUEUE = "webhooks-dlq";

export interface WebhookMessage {
  deliveryId: string;
}

export type Fetcher = (url: string, init: RequestInit) => Promise<Response>;

/** Puts deliveries on the queue, due after `delaySec` (rounded up, at most the 12 h Queues allow). */
export async function enqueueDeliveries(env: Env, ids: string[], delaySec = 0): Promise<void> {
  if (!ids.length) return;
  const delaySeconds = Math.min(MAX_DELAY_SEC, Math.max(0, Math.ceil(delaySec)));
  for (let i = 0; i < ids.length; i += 100) {
    await env.WEBHOOKS.sendBatch(
      ids.slice(i, i + 100).map((deliveryId) => ({ body: { deliveryId } satisfies WebhookMessage, delaySeconds })),
    );
  }
}

export type AttemptResult = "delivered" | "retrying" | "failed" | "waiting" | "skipped";

/**
 * One step of a delivery: nothing if it is gone, finished or not due (another message or the
 * sweep owns it); postponed if an earlier delivery of the same video to the same endpoint is still
 * pending; otherwise one signed attempt, logged, then delivered, retried later or given up.
 */
export async function attemptDelivery(env: Env, deliveryId: string, fetcher: Fetcher = fetch, now = Date.now()): Promise<AttemptResult> {
  const row = await findDelivery(env.DB, deliveryId);
  if (row?.status !== "pending" || row.nextAttemptAt > now) return "skipped";
  const endpoint = await findEndpoint(env.DB, row.endpointId);
  if (!endpoint) return "skipped"; // deleted meanwhile (its deliveries go with it)

  // "Per video, events arrive in order": a delivery is not sent while an earlier one of the same
  // video to the same endpoint is pending. It waits until that one's next attempt, and is woken as
  // soon as that one is delivered or given up.
  const blocker = await earlierPending(env.DB, row);
  if (blocker) {
    const until = Math.max(blocker.nextAttemptAt, now) + 1_000;
    await postponeDelivery(env.DB, row.id, until);
    await enqueueDeliveries(env, [row.id], (until - now) / 1000);
    return "waiting";
  }

  const { retryBaseSec, timeoutMs } = webhookTimings(env);
  const attempt = await claimAttempt(env.DB, row, now, now + timeoutMs + 60_000);
  if (attempt === null) return "skipped";
  const roundAttempt = row.roundAttempts + 1;

  const headers = await signatureHeaders(endpoint.secret, row.id, Math.floor(now / 1000), row.payload);
  let statusCode: number | null = null;
  let error: string | null = null;
  const started = Date.now();
  try {
    // "A slow receiver does not slow uploads or transcoding": this runs in the queue consumer,
    // and an attempt that gets no answer in time counts as failed.
    const res = await fetcher(endpoint.url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "edge-video-webhooks", ...headers },
      body: row.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    statusCode = res.status;
    const text = await res.text().catch(() => "");
    if (res.status < 200 || res.status > 299) error = `The receiver answered ${res.status}${text ? `: ${text.slice(0, 200)}` : "."}`;
  } catch (e) {
    const name = (e as Error)?.name;
    error =
      name === "TimeoutError" || name === "AbortError"
        ? `The receiver did not answer within ${timeoutMs / 1000} s.`
        : `The receiver could not be reached: ${String((e as Error)?.message ?? e)}`;
  }
  const durationMs = Date.now() - started;

  const delivered = error === null;
  const givenUp = !delivered && roundAttempt >= MAX_ATTEMPTS;
  const waitSec = retryDelaySec(roundAttempt, retryBaseSec);
  const status = delivered ? "delivered" : givenUp ? "failed" : "pending";
  const nextAttemptAt = status === "pending" ? now + durationMs + waitSec * 1000 : now + durationMs;
  await recordAttempt(env.DB, row.id, { attempt, at: now, statusCode, error, durationMs, status, nextAttemptAt });

  if (status === "pending") {
    await enqueueDeliveries(env, [row.id], (nextAttemptAt - Date.now()) / 1000);
    return "retrying";
  }
  const next = await wakeNextOfVideo(env.DB, row, Date.now());
  if (next) await enqueueDeliveries(env, [next]);
  if (givenUp) console.error(`webhook ${row.id} (${row.type}) to ${endpoint.url} given up after ${roundAttempt} attempts: ${error}`);
  return delivered ? "delivered" : "failed";
}

/**
 * Queue consumer of `webhooks` (and its dead-letter queue). The messages of a batch are handled at
 * once, so one slow receiver does not hold up the others' deliveries (order within a video is kept
 * by `attemptDelivery`, which does not send while an earlier delivery is pending).
 */
export async function consumeWebhookMessages(batch: MessageBatch<unknown>, env: Env, fetcher: Fetcher = fetch): Promise<void> {
  await Promise.all(batch.messages.map((message) => consumeOne(message, batch.queue, env, fetcher)));
}

async function consumeOne(message: Message<unknown>, queue: string, env: Env, fetcher: Fetcher): Promise<void> {
  const id = (message.body as Partial<WebhookMessage> | null)?.deliveryId;
  if (typeof id !== "string") {
    console.error("dropped a malformed webhook message");
    message.ack();
    return;
  }
  if (queue === WEBHOOK_DEAD_LETTER_QUEUE) {
    // The row is still pending in D1, so the minute sweep sends it again.
    console.error(`webhook message for ${id} dead-lettered after ${message.attempts} attempts`);
    message.ack();
    return;
  }
  try {
    await attemptDelivery(env, id, fetcher);
    message.ack();
  } catch (error) {
    // D1 or the queue itself failed (the receiver's failures are handled above): try the step again.
    console.error(`webhook delivery ${id} could not be processed:`, String(error));
    message.retry({ delaySeconds: Math.min(300, 5 * message.attempts) });
  }
}

/** Minute cron: deliveries still pending a minute after they were due lost their message (or their sender died). */
export async function sweepOverdueDeliveries(env: Env, now = Date.now()): Promise<number> {
  const ids = await overdueDeliveries(env.DB, now - 60_000);
  await enqueueDeliveries(env, ids);
  return ids.length;
}
