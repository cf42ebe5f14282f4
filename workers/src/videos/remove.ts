import { deleteVideoRow } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { outputPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import { uploadSession } from "../tus/session-stub.ts";
import { transcoderFor } from "../jobs/transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";

/**
 * Removes a video entirely: its upload session (aborting any multipart upload), a running
 * transcode, its source and every output object in R2, then its row. The row goes last so a
 * failure can be retried.
 */
export async function removeVideo(env: Env, row: VideoRow): Promise<void> {
  await uploadSession(env, row.id).terminate(row.ownerId);
  if (row.status === "PROCESSING") await transcoderFor(env).cancel(row.id);
  await deleteObjects(env.MEDIA, outputPrefix(row.id), [sourceKey(row.id)]);
  await deleteVideoRow(env.DB, row.id);
  forgetPlaybackState(row.id);
}
