import { type Media, asMedia } from "./media.ts";

/**
 * Deletes every object under a prefix, and `alsoKeys`. Takes the R2 binding too, for callers not
 * moved to the Media port yet.
 */
export async function deleteObjects(storage: Media | R2Bucket, prefix: string, alsoKeys: string[] = []): Promise<void> {
  const media = asMedia(storage);
  const keys = [...alsoKeys];
  let cursor: string | undefined;
  do {
    const page = await media.list(prefix, { cursor });
    keys.push(...page.keys);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  await media.delete(keys);
}
