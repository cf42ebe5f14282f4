import { deleteVideoRow } from "../db/videos.ts";
import type { VideoRow } from "../db/schema.ts";
import { outputPrefix, sourceKey } from "../storage/keys.ts";
import { deleteObjects } from "../storage/objects.ts";
import { r2Media } from "../storage/media.ts";
import { uploadSession } from "../tus/session-stub.ts";
import { transcoderFor, type TranscoderClient } from "../jobs/transcoder-client.ts";
import { forgetPlaybackState } from "../delivery/playback-state.ts";
import { videoRemoved } from "./transitions.ts";

/**
 * Removes a video entirely: its upload session (aborting any multipart upload), a running
 * transcode, its source and every output object in R2 (every run's), then its row. The row goes
 * last so a failure can be retried; then the subscribers of a removal (webhooks) hear of it. `client` is the transcoder to stop (tests inject a twin).
 */
export async function removeVideo(env: Env, row: VideoRow, client: TranscoderClient = transcoderFor(env)): Promise<void> {
  await uploadSession(env, row.id).terminate(row.ownerId);
  if (row.status === "PROCESSING") await client.cancel(row.id);
  await deleteObjects(r2Media(env.MEDIA), outputPrefix(row.id), [sourceKey(row.id)]);
  await deleteVideoRow(env.DB, row.id);
  forgetPlaybackState(row.id);
  await videoRemoved(env, row);
}
