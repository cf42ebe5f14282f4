import { app } from "./app.ts";
import { applyMethodOverride } from "./tus/protocol.ts";
import { expireUploads } from "./jobs/expire-uploads.ts";
import { consumeJobMessages } from "./jobs/consumer.ts";
import { dispatchNext } from "./jobs/dispatch.ts";
import type { TranscodeJobMessage } from "../../contract/transcode.ts";
import { dayTotal, previousDay, rollUpDay } from "./costs/ledger.ts";
import { checkSpike } from "./costs/alerts.ts";
import { utcDay } from "./costs/meter.ts";

export { UploadSession } from "./tus/upload-session.ts";
export { TranscoderContainer } from "./jobs/transcoder-container.ts";

export const CRONS = { everyMinute: "* * * * *", every6Hours: "0 */6 * * *", daily: "10 0 * * *" } as const;

export default {
  fetch: (request, env, ctx) => app.fetch(applyMethodOverride(request), env, ctx),

  queue: (batch, env) => consumeJobMessages(batch, env),

  async scheduled(controller, env) {
    if (controller.cron === CRONS.every6Hours) {
      const expired = await expireUploads(env, controller.scheduledTime);
      if (expired.length) console.log(`expired ${expired.length} unfinished uploads`);
    }
    // Every minute: re-queue jobs whose transcoder went silent, start waiting jobs.
    if (controller.cron === CRONS.everyMinute) await dispatchNext(env, { now: controller.scheduledTime });
    // Daily: yesterday's usage becomes ledger rows, then the spike check compares it with the day before.
    if (controller.cron === CRONS.daily) {
      const yesterday = previousDay(utcDay(controller.scheduledTime));
      // The day before is the spike check's baseline: make sure it is in the ledger too.
      const before = previousDay(yesterday);
      if ((await dayTotal(env.DB, before)) === 0) await rollUpDay(env, before, controller.scheduledTime);
      await rollUpDay(env, yesterday, controller.scheduledTime);
      await checkSpike(env, yesterday);
    }
  },
} satisfies ExportedHandler<Env, TranscodeJobMessage>;
