import { describe, expect, it } from "vitest";
import { outTimeSeconds, parseClockTime, ProgressParser } from "./progress.ts";

function block(fields: Record<string, string>, progress = "continue"): string {
  return `${Object.entries(fields)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")}\nprogress=${progress}\n`;
}

describe("ProgressParser", () => {
  it("turns out_time_us into a percentage of the duration", () => {
    const parser = new ProgressParser(10);
    expect(parser.push(block({ frame: "75", out_time_us: "2500000", out_time_ms: "2500000" }))).toEqual([25]);
    expect(parser.push(block({ out_time_us: "5000000" }))).toEqual([50]);
  });

  it("copes with blocks split across chunks anywhere", () => {
    const parser = new ProgressParser(8);
    const text = block({ out_time_us: "2000000" }) + block({ out_time_us: "4000000" });
    const seen: number[] = [];
    for (let i = 0; i < text.length; i += 7) seen.push(...parser.push(text.slice(i, i + 7)));
    expect(seen).toEqual([25, 50]);
  });

  it("ignores N/A and negative times before the first frame", () => {
    const parser = new ProgressParser(10);
    expect(parser.push(block({ out_time_us: "N/A", out_time_ms: "N/A", out_time: "N/A" }))).toEqual([0]);
    expect(parser.push(block({ out_time_us: "-9223372036854775807", out_time: "-577014:32:22.775808" }))).toEqual([0]);
  });

  it("falls back to out_time_ms (microseconds too) and then to out_time", () => {
    expect(new ProgressParser(10).push(block({ out_time_ms: "1000000" }))).toEqual([10]);
    expect(new ProgressParser(100).push(block({ out_time: "00:00:30.000000" }))).toEqual([30]);
  });

  it("never goes backwards and reaches 100 only at progress=end", () => {
    const parser = new ProgressParser(4);
    expect(parser.push(block({ out_time_us: "3000000" }))).toEqual([75]);
    expect(parser.push(block({ out_time_us: "1000000" }))).toEqual([75]);
    expect(parser.push(block({ out_time_us: "4100000" }))).toEqual([99.9]);
    expect(parser.push(block({ out_time_us: "4100000" }, "end"))).toEqual([100]);
  });

  it("handles CRLF line ends", () => {
    expect(new ProgressParser(10).push("out_time_us=1000000\r\nprogress=continue\r\n")).toEqual([10]);
  });
});

describe("time helpers", () => {
  it("parses HH:MM:SS.frac", () => {
    expect(parseClockTime("01:02:03.5")).toBe(3723.5);
    expect(parseClockTime("N/A")).toBeUndefined();
  });

  it("prefers out_time_us", () => {
    expect(
      outTimeSeconds(
        new Map([
          ["out_time_us", "1500000"],
          ["out_time", "00:00:09.000000"],
        ]),
      ),
    ).toBe(1.5);
  });
});
