import { and, desc, eq, isNull } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { apiKeys, type ApiKeyRow } from "./schema.ts";

/** Queries of server API keys. Keys are found by the SHA-256 of the key, never by the key. */

export async function insertApiKey(db: D1Database, row: ApiKeyRow): Promise<void> {
  await drizzle(db).insert(apiKeys).values(row);
}

/** The key with this hash if it is not revoked. */
export function activeKeyByHash(db: D1Database, keyHash: string): Promise<ApiKeyRow | undefined> {
  return drizzle(db)
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)))
    .get();
}

/** Keys that are not revoked, newest first. */
export function listActiveKeys(db: D1Database): Promise<ApiKeyRow[]> {
  return drizzle(db).select().from(apiKeys).where(isNull(apiKeys.revokedAt)).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id)).all();
}

/** Marks the key revoked; false when there is no such key or it was revoked already. */
export async function revokeApiKey(db: D1Database, id: string, now: number): Promise<boolean> {
  const row = await drizzle(db)
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id })
    .get();
  return row !== undefined;
}

export async function touchApiKey(db: D1Database, id: string, now: number): Promise<void> {
  await drizzle(db).update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id));
}
