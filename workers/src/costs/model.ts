/**
 * From metered usage to dollars, and the estimates. Pure: no storage, no clock.
 */
import { INSTANCE_TYPES, DEFAULT_INSTANCE_TYPE, type Prices } from "./prices.ts";

/** What the meter counts. Quantities are in the unit the name says. */
export const USAGE_KINDS = [
  "r2_class_a",
  "r2_class_b",
  "r2_storage_gb_month",
  "workers_requests",
  "do_requests",
  "queue_operations",
  "container_vcpu_seconds",
  "container_gib_seconds",
] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];

/** Which price each kind of usage is billed at, and in how many units that price is quoted. */
const RATES: { [K in UsageKind]: { price: keyof Prices; perUnits: number } } = {
  r2_class_a: { price: "r2ClassAPerMillion", perUnits: 1e6 },
  r2_class_b: { price: "r2ClassBPerMillion", perUnits: 1e6 },
  r2_storage_gb_month: { price: "r2StorageGbMonth", perUnits: 1 },
  workers_requests: { price: "workersRequestsPerMillion", perUnits: 1e6 },
  do_requests: { price: "durableObjectRequestsPerMillion", perUnits: 1e6 },
  queue_operations: { price: "queueOperationsPerMillion", perUnits: 1e6 },
  container_vcpu_seconds: { price: "containerVcpuSecond", perUnits: 1 },
  container_gib_seconds: { price: "containerGibSecond", perUnits: 1 },
};

export function usdOf(kind: UsageKind, quantity: number, p: Prices): number {
  const rate = RATES[kind];
  return (quantity / rate.perUnits) * p[rate.price];
}

/** A usage breakdown priced: dollars per kind and the total. */
export function priceBreakdown(
  quantities: Partial<Record<UsageKind, number>>,
  p: Prices,
): { usd: number; breakdown: Record<string, number> } {
  const breakdown: Record<string, number> = {};
  let usd = 0;
  for (const [kind, quantity] of Object.entries(quantities) as [UsageKind, number][]) {
    const cost = usdOf(kind, quantity, p);
    breakdown[kind] = cost;
    usd += cost;
  }
  return { usd, breakdown };
}

/**
 * Compute of one attempt as Containers bill it: vCPU on active use (the CPU-seconds the transcoder
 * measured), memory as provisioned (the instance type's GiB × wall seconds).
 */
export function encodeUsage(
  encodeSeconds: number,
  instanceType: string | undefined,
  cpuSeconds?: number,
): { vcpuSeconds: number; gibSeconds: number } {
  const instance = INSTANCE_TYPES[instanceType ?? ""] ?? INSTANCE_TYPES[DEFAULT_INSTANCE_TYPE];
  return {
    // No CPU figure (a transcoder from before it reported one, or one that could not measure it):
    // the attempt is priced as before, wall seconds × the instance's vCPUs, which is what a fully
    // busy instance would cost — an over-estimate, never an under-.
    vcpuSeconds: cpuSeconds ?? encodeSeconds * instance.vcpu,
    gibSeconds: encodeSeconds * instance.memoryGib,
  };
}

const DAY_SECONDS = 86_400;
const MONTH_SECONDS = 30 * DAY_SECONDS;

/** GB-months for `bytes` kept during the part of [from, to) that falls in the UTC day starting at `dayStart` (ms). */
export function storageGbMonthsInDay(bytes: number, from: number, to: number, dayStart: number): number {
  const start = Math.max(from, dayStart);
  const end = Math.min(to, dayStart + DAY_SECONDS * 1000);
  if (end <= start || bytes <= 0) return 0;
  return (bytes / 1e9) * ((end - start) / 1000 / MONTH_SECONDS);
}

/**
 * What a job is expected to cost before it runs (for the budget check): its encode, and its
 * outputs stored for a month. Assumes a phone source at 8 Mbit/s (so duration ≈ bytes / 1 MB/s),
 * an encode at 2× realtime on the instance, and the ladder's 2.7 Mbit/s of video plus 3 × 128 kbit/s
 * of audio as output.
 */
export function estimateJobUsd(sourceBytes: number, p: Prices, instanceType = DEFAULT_INSTANCE_TYPE): number {
  const durationSec = (sourceBytes * 8) / 8e6;
  const { vcpuSeconds, gibSeconds } = encodeUsage(durationSec / 2, instanceType);
  const outputBytes = (durationSec * (2_700_000 + 3 * 128_000)) / 8;
  return vcpuSeconds * p.containerVcpuSecond + gibSeconds * p.containerGibSecond + (outputBytes / 1e9) * p.r2StorageGbMonth;
}

/** The plan's estimate formula, with its assumptions as parameters. */
export interface PlanEstimateParams {
  activeUsers: number;
  videosPerUserPerMonth: number;
  mbPerVideo: number;
  outputFactor: number;
  usdPerGbMonth: number;
}

export const PLAN_DEFAULTS: Omit<PlanEstimateParams, "activeUsers"> = {
  videosPerUserPerMonth: 2,
  mbPerVideo: 100,
  outputFactor: 2.5,
  usdPerGbMonth: 0.015,
};

export function planEstimateUsd(q: PlanEstimateParams): number {
  return ((q.activeUsers * q.videosPerUserPerMonth * q.mbPerVideo * q.outputFactor) / 1000) * q.usdPerGbMonth;
}
