import type { VideoRow } from "../db/schema.ts";

export type TranscodingGate = { allowed: true } | { allowed: false; message: string };

/**
 * The kill-switch hook, asked before a job is dispatched: a held job waits (HELD) with a sentence
 * for its creator. The cost-control capability fills this in (budget cap, kill switch in KV).
 */
export async function transcodingGate(_env: Env, _video: VideoRow): Promise<TranscodingGate> {
  return { allowed: true };
}
