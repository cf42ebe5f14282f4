/**
 * The price table, as data. Every figure is Cloudflare's published list price in USD beyond the
 * included amounts (read 2026-11; the free tiers are not subtracted, so small projects are
 * over-estimated, never under-). Override any entry with the PRICES_JSON var, e.g.
 * PRICES_JSON='{"r2StorageGbMonth":0.0225}'.
 */
export const DEFAULT_PRICES = {
  /** R2 Standard storage, per GB-month. developers.cloudflare.com/r2/pricing */
  r2StorageGbMonth: 0.015,
  /** R2 Class A operations (writes, lists, multipart), per million. developers.cloudflare.com/r2/pricing */
  r2ClassAPerMillion: 4.5,
  /** R2 Class B operations (reads), per million. R2 egress is free. developers.cloudflare.com/r2/pricing */
  r2ClassBPerMillion: 0.36,
  /** Workers Standard requests, per million. developers.cloudflare.com/workers/platform/pricing */
  workersRequestsPerMillion: 0.3,
  /** Durable Objects requests (incl. RPC calls), per million. developers.cloudflare.com/durable-objects/platform/pricing */
  durableObjectRequestsPerMillion: 0.15,
  /** Queues operations (each message: a write, a read, a delete), per million. developers.cloudflare.com/queues/platform/pricing */
  queueOperationsPerMillion: 0.4,
  /** D1 rows written, per million. developers.cloudflare.com/d1/platform/pricing */
  d1RowsWrittenPerMillion: 1.0,
  /** D1 rows read, per million. developers.cloudflare.com/d1/platform/pricing */
  d1RowsReadPerMillion: 0.001,
  /**
   * Containers vCPU, per vCPU-second of CPU actually used. developers.cloudflare.com/containers/pricing
   * and the changelog of 2025-11-21 ("New CPU Pricing for Containers and Sandboxes", read
   * 2026-11-26): "pricing for CPU time is now based on active usage only, instead of provisioned
   * resources"; "CPU-time is priced at $0.00002 per vCPU-second". The meter counts the CPU-seconds
   * the transcoder reports (`costs/model.ts` encodeUsage).
   */
  containerVcpuSecond: 0.00002,
  /**
   * Containers memory, per GiB-second of the instance type's memory while it runs. Same sources:
   * "Memory cost and disk pricing remain unchanged, and is still calculated based on provisioned
   * resources"; $0.0000025 per GiB-second (unchanged since it was read 2026-11).
   */
  containerGibSecond: 0.0000025,
} as const;

export type Prices = { -readonly [K in keyof typeof DEFAULT_PRICES]: number };

/** Container instance types (developers.cloudflare.com/containers/platform/limits). */
export const INSTANCE_TYPES: Record<string, { vcpu: number; memoryGib: number }> = {
  lite: { vcpu: 1 / 16, memoryGib: 0.25 },
  basic: { vcpu: 1 / 4, memoryGib: 1 },
  "standard-1": { vcpu: 1 / 2, memoryGib: 4 },
  "standard-2": { vcpu: 1, memoryGib: 6 },
  "standard-3": { vcpu: 2, memoryGib: 8 },
  "standard-4": { vcpu: 4, memoryGib: 12 },
};
export const DEFAULT_INSTANCE_TYPE = "standard-4";

export function pricesFrom(env: { PRICES_JSON?: string }): Prices {
  if (!env.PRICES_JSON) return { ...DEFAULT_PRICES };
  try {
    const overrides = JSON.parse(env.PRICES_JSON) as Record<string, unknown>;
    const prices: Prices = { ...DEFAULT_PRICES };
    for (const key of Object.keys(DEFAULT_PRICES) as (keyof Prices)[]) {
      const value = overrides[key];
      if (typeof value === "number" && Number.isFinite(value) && value >= 0) prices[key] = value;
    }
    return prices;
  } catch {
    console.error("PRICES_JSON is not valid JSON; using the default price table");
    return { ...DEFAULT_PRICES };
  }
}
