/** Deletes every object under a prefix (R2 lists and deletes at most 1000 keys per call). */
export async function deleteObjects(bucket: R2Bucket, prefix: string, alsoKeys: string[] = []): Promise<void> {
  const keys = [...alsoKeys];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}
