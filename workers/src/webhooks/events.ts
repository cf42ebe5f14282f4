import { findVideo, toVideoResponse } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { insertDeliveries, listEndpoints, type NewWebhookDelivery } from "../db/webhooks.ts";
import { signPlaybackToken } from "../delivery/playback-token.ts";
import { getBudget } from "../costs/budget.ts";
import { onCostAlert, type CostAlert } from "../costs/alerts.ts";
import { onVideoEvent, onVideoRemoved, type VideoEvent, type VideoEventHandler } from "../videos/transitions.ts";
import type { VideoEventType } from "../videos/lifecycle.ts";
import type { WebhookEventType, WebhookPayload } from "../../../contract/webhooks.ts";
import { enqueueDeliveries } from "./deliver.ts";
import { newMessageId } from "./policy.ts";

/**
 * Where webhook events come from: the video lifecycle's events (`onVideoEvent`), a video's removal
 * and the cost alerts, each a subscriber. An event becomes one delivery row per endpoint that asked
 * for it, with the exact body every attempt will send, then a queue message per row.
 */

/** The lifecycle events that are webhook events. `held` counts only when a video becomes HELD, not each time it stays so. */
export function webhookTypeOf(event: Pick<VideoEvent, "type" | "from">): WebhookEventType | null {
  const map: Partial<Record<VideoEventType, WebhookEventType>> = {
    uploaded: "video.uploaded",
    playable: "video.playable",
    succeeded: "video.ready",
    failed: "video.failed",
    expired: "video.failed",
  };
  if (event.type === "held") return event.from === "HELD" ? null : "budget.held";
  return map[event.type] ?? null;
}

/** The video as `GET /api/videos/:id` shows it to its owner (private videos with signed URLs). */
async function videoData(env: Env, row: VideoRow) {
  return toVideoResponse(row, row.visibility === "private" ? await signPlaybackToken(env.JWT_SECRET, row.id, row.playbackVersion) : null);
}

/** Records one delivery per endpoint subscribed to `type` and enqueues them. */
export async function publish(env: Env, payload: WebhookPayload, videoId: string, at: number): Promise<string[]> {
  const endpoints = (await listEndpoints(env.DB)).filter((e) => (JSON.parse(e.events) as string[]).includes(payload.type));
  if (!endpoints.length) return [];
  const body = JSON.stringify(payload);
  const now = Date.now();
  const rows: NewWebhookDelivery[] = endpoints.map((e) => ({
    id: newMessageId(),
    endpointId: e.id,
    type: payload.type,
    videoId,
    payload: body,
    eventAt: at,
    createdAt: now,
  }));
  // The rows first: if the queue send fails, the minute sweep sends them.
  await insertDeliveries(env.DB, rows);
  await enqueueDeliveries(
    env,
    rows.map((r) => r.id),
  ).catch((error) => console.error("webhook enqueue failed; the sweep will send:", String(error)));
  return rows.map((r) => r.id);
}

export const webhookOnVideoEvent: VideoEventHandler = async (event, { env }) => {
  const type = webhookTypeOf(event);
  if (!type) return;
  const row = event.row ?? (await findVideo(env.DB, event.videoId));
  if (!row) return;
  await publish(
    env,
    { type, timestamp: new Date(event.at).toISOString(), data: await videoData(env, row) } as WebhookPayload,
    row.id,
    event.at,
  );
};

export async function webhookOnVideoRemoved(row: VideoRow, env: Env): Promise<void> {
  const at = Date.now();
  await publish(env, { type: "video.deleted", timestamp: new Date(at).toISOString(), data: await videoData(env, row) }, row.id, at);
}

export async function webhookOnCostAlert(alert: CostAlert, env: Env): Promise<void> {
  const at = Date.now();
  const budget = await getBudget(env.CONFIG);
  await publish(
    env,
    {
      type: "budget.alert",
      timestamp: new Date(at).toISOString(),
      data: {
        ...budget,
        alert: { kind: alert.kind, day: alert.day, message: alert.message, usd: alert.usd, previousUsd: alert.previousUsd },
      },
    },
    "",
    at,
  );
}

onVideoEvent(webhookOnVideoEvent);
onVideoRemoved(webhookOnVideoRemoved);
onCostAlert(webhookOnCostAlert);
