/** Budget settings in KV (cap, kill switch, spike threshold), validated, with an audit log in D1. */
import { ApiError } from "../http/errors.ts";

import type { BudgetSettings } from "../../../contract/api.ts";

export type { BudgetSettings };

/** The plan's budget is $100–200 a month: the cap starts at its top. */
export const DEFAULT_BUDGET: BudgetSettings = { monthlyCapUsd: 200, transcodingEnabled: true, spikeThresholdPct: 50 };
const KEY = "budget";

export async function getBudget(kv: KVNamespace): Promise<BudgetSettings> {
  const stored = await kv.get<Partial<BudgetSettings>>(KEY, "json");
  return { ...DEFAULT_BUDGET, ...stored };
}

/** Checks a PUT body: known fields only, right types and ranges; 400 with a sentence otherwise. */
export function validateBudgetPatch(body: unknown): Partial<BudgetSettings> {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError(400, "invalid_budget", "Send a JSON object with monthlyCapUsd, transcodingEnabled and/or spikeThresholdPct.");
  }
  const patch: Partial<BudgetSettings> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "monthlyCapUsd") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1_000_000) {
        throw new ApiError(400, "invalid_cap", "monthlyCapUsd must be a number of dollars from 0 to 1,000,000.");
      }
      patch.monthlyCapUsd = Math.round(value * 100) / 100;
    } else if (key === "transcodingEnabled") {
      if (typeof value !== "boolean") throw new ApiError(400, "invalid_switch", "transcodingEnabled must be true or false.");
      patch.transcodingEnabled = value;
    } else if (key === "spikeThresholdPct") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > 10_000) {
        throw new ApiError(400, "invalid_threshold", "spikeThresholdPct must be a percentage from 1 to 10,000.");
      }
      patch.spikeThresholdPct = value;
    } else {
      throw new ApiError(400, "unknown_field", `Unknown budget setting: ${key}.`);
    }
  }
  return patch;
}

export async function putBudget(env: Env, adminId: string, patch: Partial<BudgetSettings>, now = Date.now()): Promise<BudgetSettings> {
  const before = await getBudget(env.CONFIG);
  const after = { ...before, ...patch };
  await env.CONFIG.put(KEY, JSON.stringify(after));
  await env.DB.prepare("INSERT INTO budget_changes (at, admin_id, before, after) VALUES (?, ?, ?, ?)")
    .bind(now, adminId, JSON.stringify(before), JSON.stringify(after))
    .run();
  console.log(`budget changed by ${adminId}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
  return after;
}
