import { findExpiredUploads } from "../db/videos.ts";
import { uploadSession } from "../tus/session-stub.ts";
import { transition } from "../videos/transitions.ts";

/**
 * Cron (every 6 h): an unfinished upload past its Upload-Expires loses its bytes — the R2 multipart
 * upload is aborted and the session's tail removed — and its video is marked FAILED with a sentence.
 * Returns the ids it expired.
 */
export async function expireUploads(env: Env, now = Date.now()): Promise<string[]> {
  const expired: string[] = [];
  for (const row of await findExpiredUploads(env.DB, now)) {
    await uploadSession(env, row.id).expire(now);
    await transition(env, row.id, { event: "expired" }, { now });
    expired.push(row.id);
  }
  return expired;
}
