/** How views' figures read: watch time and startup times, in English and Arabic. */
import { describe, expect, it } from "vitest";
import { formatMs, formatWatchTime } from "./format.ts";

describe("watch time and startup formatting", () => {
  it("writes watch time in the unit people think in", () => {
    expect(formatWatchTime(0)).toBe("0 s");
    expect(formatWatchTime(44.6)).toBe("45 s");
    expect(formatWatchTime(71)).toBe("1 min");
    expect(formatWatchTime(3600)).toBe("1 h");
    expect(formatWatchTime(12_000)).toBe("3 h 20 min");
    expect(formatWatchTime(12_000, "ar")).toBe("٣ س ٢٠ د");
  });

  it("writes startup times in ms below a second, in seconds above, and a dash when unknown", () => {
    expect(formatMs(750)).toBe("750 ms");
    expect(formatMs(1500)).toBe("1.5 s");
    expect(formatMs(2000)).toBe("2 s");
    expect(formatMs(null)).toBe("–");
    expect(formatMs(1500, "ar")).toBe("١٫٥ ث");
  });
});
