import { purgeDirectUploads } from "../db/direct-uploads.ts";
import { purgeFinishedDeliveries } from "../db/webhooks.ts";

/** A link that expired unused, or whose video is gone, is kept this long before its row goes. */
export const DIRECT_UPLOAD_GRACE_MS = 24 * 3600_000;
/** Delivered or given-up webhook deliveries (and their attempt log) are kept this long. */
export const WEBHOOK_DELIVERY_RETENTION_MS = 30 * 24 * 3600_000;

/**
 * Cron (every 6 h): rows that nothing reads any more. Each purge is bounded per run; the next
 * run takes the rest.
 */
export async function purgeStaleRows(env: Env, now = Date.now()): Promise<{ directUploads: number; webhookDeliveries: number }> {
  return {
    directUploads: await purgeDirectUploads(env.DB, now - DIRECT_UPLOAD_GRACE_MS, now - DIRECT_UPLOAD_GRACE_MS),
    webhookDeliveries: await purgeFinishedDeliveries(env.DB, now - WEBHOOK_DELIVERY_RETENTION_MS),
  };
}
