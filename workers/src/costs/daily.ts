/** The daily close: yesterday's usage becomes ledger rows, then the spike check compares it with the day before. */
import { type Fetcher, checkSpike } from "./alerts.ts";
import { dayTotal, previousDay, rollUpDay } from "./ledger.ts";
import { utcDay } from "./meter.ts";

/** Closes the UTC day before `now`. Safe to run again: roll-ups replace their rows, an alert is sent once. */
export async function closeDay(env: Env, now: number, fetcher: Fetcher = fetch): Promise<void> {
  const yesterday = previousDay(utcDay(now));
  // The day before is the spike check's baseline: make sure it is in the ledger too.
  const before = previousDay(yesterday);
  if ((await dayTotal(env.DB, before)) === 0) await rollUpDay(env, before, now);
  await rollUpDay(env, yesterday, now);
  await checkSpike(env, yesterday, fetcher, now);
}
