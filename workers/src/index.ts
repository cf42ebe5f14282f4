import { app } from "./app.ts";
import { applyMethodOverride } from "./tus/protocol.ts";
import { expireUploads } from "./jobs/expire-uploads.ts";
import { purgeStaleRows } from "./jobs/purge.ts";
import { consumeJobMessages } from "./jobs/consumer.ts";
import { dispatchNext } from "./jobs/dispatch.ts";
import type { TranscodeJobMessage } from "../../contract/transcode.ts";
import { closeDay } from "./costs/daily.ts";
import { deliverPendingAlerts } from "./costs/alerts.ts";
import { purgeOldSessions } from "./qoe/purge.ts";
import { WEBHOOK_DEAD_LETTER_QUEUE, WEBHOOK_QUEUE, consumeWebhookMessages, sweepOverdueDeliveries } from "./webhooks/deliver.ts";
// Subscribes the webhooks to video events, removals and cost alerts (registered on load).
import "./webhooks/events.ts";

export { UploadSession } from "./tus/upload-session.ts";
export { TranscoderContainer } from "./jobs/transcoder-container.ts";

export const CRONS = { everyMinute: "* * * * *", every6Hours: "0 */6 * * *", daily: "10 0 * * *" } as const;

export default {
  fetch: (request, env, ctx) => app.fetch(applyMethodOverride(request), env, ctx),

  // One consumer, two queues: transcode jobs, and webhook deliveries (each with its dead-letter queue).
  queue: (batch, env) =>
    batch.queue === WEBHOOK_QUEUE || batch.queue === WEBHOOK_DEAD_LETTER_QUEUE
      ? consumeWebhookMessages(batch, env)
      : consumeJobMessages(batch as MessageBatch<TranscodeJobMessage>, env),

  async scheduled(controller, env) {
    if (controller.cron === CRONS.every6Hours) {
      const expired = await expireUploads(env, controller.scheduledTime);
      if (expired.length) console.log(`expired ${expired.length} unfinished uploads`);
      const purged = await purgeStaleRows(env, controller.scheduledTime);
      if (purged.directUploads || purged.webhookDeliveries)
        console.log(`purged ${purged.directUploads} direct upload links and ${purged.webhookDeliveries} webhook deliveries`);
    }
    // Every minute: re-queue jobs whose transcoder went silent, start waiting jobs, then send the
    // alerts the dispatch recorded (the budget gate never waits for the webhook).
    if (controller.cron === CRONS.everyMinute) {
      await dispatchNext(env, { now: controller.scheduledTime });
      await deliverPendingAlerts(env, fetch, controller.scheduledTime);
      await sweepOverdueDeliveries(env, controller.scheduledTime);
    }
    if (controller.cron === CRONS.daily) {
      await closeDay(env, controller.scheduledTime);
      // After midnight UTC yesterday's views are complete (beacons add to the day as they arrive).
      const purged = await purgeOldSessions(env, controller.scheduledTime);
      if (purged) console.log(`forgot ${purged} playback sessions`);
    }
  },
} satisfies ExportedHandler<Env, unknown>;
