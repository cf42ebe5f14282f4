/** The web app's pure helpers (no browser): formatting, the speed meter, file checks, and both dictionaries complete. */
import { describe, expect, it } from "vitest";
import { SpeedMeter, formatBytes, formatDuration, formatSpeed, formatTimeLeft } from "./format.ts";
import { MAX_UPLOAD_BYTES, checkFile, fileType, titleFromFilename } from "./validate.ts";
import { ar, en, placeholders, translate, type StringKey } from "./strings.ts";

describe("web formatting", () => {
  it("formats sizes, speeds, durations and time left", () => {
    expect(formatBytes(736 * 1024)).toBe("736 KB");
    expect(formatBytes(17_305_586)).toBe("16.5 MB");
    expect(formatSpeed(1_200_000)).toBe("9.6 Mbit/s");
    expect(formatDuration(8)).toBe("0:08");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(null)).toBe("–");
    expect(formatTimeLeft(34.2)).toBe("35 s");
    expect(formatTimeLeft(600)).toBe("10 min");
    expect(formatTimeLeft(4800)).toBe("1 h 20 min");
    expect(formatTimeLeft(null)).toBeNull();
    expect(formatSpeed(125_000, "ar")).toMatch(/^[٠-٩٫]+ م\.بت\/ث$/);
  });

  it("measures speed from samples and ignores a restart", () => {
    const m = new SpeedMeter(3000, 250);
    expect(m.sample(0, 0)).toBeNull();
    expect(m.sample(1_000_000, 1000)).toBe(1_000_000);
    for (let t = 2000; t <= 20_000; t += 1000) m.sample(1_000_000 + (t - 1000) * 500, t);
    expect(m.bytesPerSecond!).toBeGreaterThan(500_000);
    expect(m.bytesPerSecond!).toBeLessThan(560_000);
    expect(m.secondsLeft(0, 5_000_000)).toBeCloseTo(5_000_000 / m.bytesPerSecond!, 5);
    m.reset();
    expect(m.secondsLeft(0, 1)).toBeNull();
  });
});

describe("web file checks", () => {
  it("accepts videos up to 500 MB and explains refusals", () => {
    expect(checkFile({ name: "a.mp4", type: "video/mp4", size: 10 })).toBeNull();
    expect(checkFile({ name: "a.mkv", type: "", size: 10 })).toBeNull(); // no MIME type: by extension
    expect(checkFile({ name: "a.txt", type: "text/plain", size: 10 })).toMatchObject({ code: "not_video" });
    expect(checkFile({ name: "a.mp4", type: "video/mp4", size: 0 })).toMatchObject({ code: "empty" });
    expect(checkFile({ name: "a.mp4", type: "video/mp4", size: MAX_UPLOAD_BYTES + 1 })).toMatchObject({ code: "too_big" });
    expect(checkFile({ name: "a.mp4", type: "video/mp4", size: MAX_UPLOAD_BYTES })).toBeNull();
    expect(fileType({ name: "b.MOV", type: "", size: 1 })).toBe("video/quicktime");
    expect(titleFromFilename("my_trip-2024.mp4")).toBe("my trip 2024");
  });
});

describe("web dictionaries", () => {
  it("has every key in Arabic and English, non-empty, with the same placeholders", () => {
    const keys = Object.keys(en) as StringKey[];
    expect(Object.keys(ar).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      expect(ar[key].trim(), key).not.toBe("");
      expect(placeholders(ar[key]), key).toEqual(placeholders(en[key]));
    }
    expect(translate("ar", "upload.timeLeft", { time: "٣ د" })).toBe("متبقٍ ٣ د");
  });
});
