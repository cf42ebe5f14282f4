import { app } from "./app.ts";
import { applyMethodOverride } from "./tus/protocol.ts";
import { expireUploads } from "./jobs/expire-uploads.ts";
import type { TranscodeJobMessage } from "./shared/transcode.ts";

export { UploadSession } from "./tus/upload-session.ts";

export default {
  fetch: (request, env, ctx) => app.fetch(applyMethodOverride(request), env, ctx),

  async queue(batch) {
    // Transcoding dispatch arrives with the transcoding pipeline; until then jobs wait in D1 (QUEUED).
    for (const message of batch.messages) message.ack();
  },

  async scheduled(controller, env) {
    if (controller.cron === "0 */6 * * *") {
      const expired = await expireUploads(env, controller.scheduledTime);
      if (expired.length) console.log(`expired ${expired.length} unfinished uploads`);
    }
  },
} satisfies ExportedHandler<Env, TranscodeJobMessage>;
