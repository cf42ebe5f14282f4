import { deleteVideoRow } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { outputPrefix, sourceKey } from "../storage/keys.ts";
import { uploadSession } from "../tus/session-stub.ts";

/**
 * Removes a video entirely: its upload session (aborting any multipart upload), its source and every
 * output object in R2, then its row. Order matters: the row goes last so a failure can be retried.
 */
export async function removeVideo(env: Env, row: VideoRow): Promise<void> {
  await uploadSession(env, row.id).terminate(row.ownerId);
  const keys: string[] = [sourceKey(row.id)];
  let cursor: string | undefined;
  do {
    const page = await env.MEDIA.list({ prefix: outputPrefix(row.id), cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  // R2 deletes at most 1000 keys per call.
  for (let i = 0; i < keys.length; i += 1000) await env.MEDIA.delete(keys.slice(i, i + 1000));
  await deleteVideoRow(env.DB, row.id);
}
