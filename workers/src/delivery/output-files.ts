import { legacyOutputKey, outputKey } from "../storage/keys.ts";
import { count } from "../costs/meter.ts";
import type { Media, MediaBody } from "../storage/media.ts";
import type { PlaybackState } from "./playback-state.ts";

/**
 * The stored object behind a public URL /videos/<id>/<path>: the current run's file. Only a READY
 * video falls back to the key without a run prefix, where runs made before runs had their own
 * prefix stored their files; a run still processing never does, so it can never be served a file of
 * an earlier run.
 */
export async function readOutput(media: Media, state: PlaybackState, path: string): Promise<MediaBody | null> {
  const object = await media.get(outputKey(state.id, state.run, path));
  count(state.id, "r2_class_b");
  if (object || state.status !== "READY") return object;
  const legacy = await media.get(legacyOutputKey(state.id, path));
  count(state.id, "r2_class_b");
  return legacy;
}
