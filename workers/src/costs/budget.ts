/** Budget settings in KV (cap, kill switch, spike threshold), validated, with an audit log in D1. */
import { insertBudgetChange } from "../db/costs.ts";

import type { BudgetSettings } from "../../../contract/api.ts";

export type { BudgetSettings };

/** The plan's budget is $100–200 a month: the cap starts at its top. */
export const DEFAULT_BUDGET: BudgetSettings = { monthlyCapUsd: 200, transcodingEnabled: true, spikeThresholdPct: 50 };
const KEY = "budget";

/** A budget value that cannot be used: a machine code and a sentence for people (the routes answer 400 with them). */
export class BudgetError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "BudgetError";
  }
}

/**
 * The one reading of budget settings, for a PUT body and for the value stored in KV alike: the
 * fields that are valid, and an error for each one that is not (unknown fields included).
 */
export function parseBudget(raw: unknown): { settings: Partial<BudgetSettings>; errors: BudgetError[] } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      settings: {},
      errors: [new BudgetError("invalid_budget", "Send a JSON object with monthlyCapUsd, transcodingEnabled and/or spikeThresholdPct.")],
    };
  }
  const settings: Partial<BudgetSettings> = {};
  const errors: BudgetError[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === "monthlyCapUsd") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1_000_000) {
        errors.push(new BudgetError("invalid_cap", "monthlyCapUsd must be a number of dollars from 0 to 1,000,000."));
      } else settings.monthlyCapUsd = Math.round(value * 100) / 100;
    } else if (key === "transcodingEnabled") {
      if (typeof value !== "boolean") errors.push(new BudgetError("invalid_switch", "transcodingEnabled must be true or false."));
      else settings.transcodingEnabled = value;
    } else if (key === "spikeThresholdPct") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 1 || value > 10_000) {
        errors.push(new BudgetError("invalid_threshold", "spikeThresholdPct must be a percentage from 1 to 10,000."));
      } else settings.spikeThresholdPct = value;
    } else {
      errors.push(new BudgetError("unknown_field", `Unknown budget setting: ${key}.`));
    }
  }
  return { settings, errors };
}

/** Checks a PUT body: known fields only, right types and ranges; throws a `BudgetError` otherwise. */
export function validateBudgetPatch(body: unknown): Partial<BudgetSettings> {
  const { settings, errors } = parseBudget(body);
  if (errors.length > 0) throw errors[0];
  return settings;
}

/**
 * The settings in force. A stored value that is not valid never stops the gate: each field that
 * cannot be read falls back to its default, with a log line saying which and why.
 */
export async function getBudget(kv: KVNamespace): Promise<BudgetSettings> {
  const text = await kv.get(KEY, "text");
  if (text === null) return { ...DEFAULT_BUDGET };
  let stored: unknown;
  try {
    stored = JSON.parse(text);
  } catch {
    console.error("the stored budget is not JSON; using the default budget until an admin saves it again");
    return { ...DEFAULT_BUDGET };
  }
  const { settings, errors } = parseBudget(stored);
  for (const error of errors) console.error(`the stored budget has a bad field, its default is used: ${error.message}`);
  return { ...DEFAULT_BUDGET, ...settings };
}

export async function putBudget(env: Env, adminId: string, patch: Partial<BudgetSettings>, now = Date.now()): Promise<BudgetSettings> {
  const before = await getBudget(env.CONFIG);
  const after = { ...before, ...patch };
  await env.CONFIG.put(KEY, JSON.stringify(after));
  await insertBudgetChange(env.DB, { at: now, adminId, before, after });
  console.log(`budget changed by ${adminId}: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
  return after;
}
