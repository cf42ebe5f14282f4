import { describe, expect, it } from "vitest";
import { encodeUsage, estimateJobUsd, planEstimateUsd, PLAN_DEFAULTS, priceBreakdown, storageGbMonthsInDay, usdOf } from "./model.ts";
import { DEFAULT_PRICES, pricesFrom } from "./prices.ts";

const p = DEFAULT_PRICES;
const day = Date.parse("2026-11-10T00:00:00Z");
const hour = 3_600_000;

describe("price model", () => {
  it("prices each kind of usage in its unit", () => {
    expect(usdOf("r2_class_a", 1_000_000, p)).toBeCloseTo(4.5);
    expect(usdOf("r2_class_b", 2_000_000, p)).toBeCloseTo(0.72);
    expect(usdOf("r2_storage_gb_month", 10, p)).toBeCloseTo(0.15);
    expect(usdOf("workers_requests", 1_000_000, p)).toBeCloseTo(0.3);
    expect(usdOf("do_requests", 1_000_000, p)).toBeCloseTo(0.15);
    expect(usdOf("queue_operations", 3_000_000, p)).toBeCloseTo(1.2);
    expect(usdOf("container_vcpu_seconds", 3600, p)).toBeCloseTo(0.072);
    expect(usdOf("container_gib_seconds", 3600, p)).toBeCloseTo(0.009);
    const { usd, breakdown } = priceBreakdown({ r2_class_a: 1e6, r2_class_b: 1e6 }, p);
    expect(usd).toBeCloseTo(4.86);
    expect(Object.keys(breakdown).sort()).toEqual(["r2_class_a", "r2_class_b"]);
  });

  it("takes overrides from PRICES_JSON and ignores bad ones", () => {
    expect(pricesFrom({ PRICES_JSON: '{"r2StorageGbMonth":0.03,"r2ClassAPerMillion":-1,"nonsense":5}' })).toMatchObject({
      r2StorageGbMonth: 0.03,
      r2ClassAPerMillion: 4.5,
    });
    expect(pricesFrom({ PRICES_JSON: "{not json" }).r2StorageGbMonth).toBe(0.015);
  });

  it("turns encode seconds on an instance type into vCPU- and GiB-seconds", () => {
    expect(encodeUsage(10, "standard-4")).toEqual({ vcpuSeconds: 40, gibSeconds: 120 });
    expect(encodeUsage(10, "standard-1")).toEqual({ vcpuSeconds: 5, gibSeconds: 40 });
    expect(encodeUsage(10, "unknown")).toEqual(encodeUsage(10, "standard-4"));
  });

  it("bills vCPU on the CPU-seconds used when the transcoder measured them, memory on the instance's GiB × wall", () => {
    // 10 s on standard-4 that kept 2.5 of its 4 vCPUs busy: 25 vCPU-seconds, still 12 GiB × 10 s.
    expect(encodeUsage(10, "standard-4", 25)).toEqual({ vcpuSeconds: 25, gibSeconds: 120 });
    expect(encodeUsage(10, "standard-4", 0)).toEqual({ vcpuSeconds: 0, gibSeconds: 120 });
  });

  it("counts storage only for the part of the day the bytes were kept", () => {
    const gb = 1e9;
    // Kept the whole day: 1/30 of a GB-month.
    expect(storageGbMonthsInDay(gb, day - hour, day + 48 * hour, day)).toBeCloseTo(1 / 30);
    // Kept from noon to 18:00: a quarter of that.
    expect(storageGbMonthsInDay(gb, day + 12 * hour, day + 18 * hour, day)).toBeCloseTo(1 / 120);
    expect(storageGbMonthsInDay(gb, day + 30 * hour, day + 40 * hour, day)).toBe(0);
  });

  it("estimates a job from its size, growing with it", () => {
    const small = estimateJobUsd(10_000_000, p);
    const large = estimateJobUsd(500_000_000, p);
    expect(small).toBeGreaterThan(0);
    expect(large / small).toBeCloseTo(50, 5);
    // A 500 MB phone video (about 8 min 20 s): an encode and a month of outputs cost cents, not dollars.
    expect(large).toBeLessThan(0.2);
  });

  it("keeps the plan's formula with its assumptions", () => {
    expect(planEstimateUsd({ activeUsers: 500, ...PLAN_DEFAULTS })).toBeCloseTo(3.75);
    expect(planEstimateUsd({ activeUsers: 500, ...PLAN_DEFAULTS, mbPerVideo: 200 })).toBeCloseTo(7.5);
  });
});
