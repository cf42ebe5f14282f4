import { describe, expect, it } from "vitest";
import { MiB, concatBytes, cutAtBoundaries, partSizeFor } from "./part-layout.ts";

describe("partSizeFor", () => {
  it("uses 8 MiB parts for a 500 MB cap (63 parts, well under 10 000)", () => {
    expect(partSizeFor(524_288_000)).toBe(8 * MiB);
  });
  it("grows parts so that a huge cap still fits in 10 000 parts", () => {
    const size = partSizeFor(200 * 1024 * MiB);
    expect(size % MiB).toBe(0);
    expect(Math.ceil((200 * 1024 * MiB) / size)).toBeLessThanOrEqual(10_000);
  });
});

describe("cutAtBoundaries", () => {
  it("never lets a piece cross a part boundary or exceed the row size", () => {
    const chunk = new Uint8Array(25).map((_, i) => i);
    const pieces = cutAtBoundaries(chunk, 7, 10, 4);
    expect(pieces.map((p) => p.length)).toEqual([3, 4, 4, 2, 4, 4, 2, 2]);
    let position = 7;
    for (const piece of pieces) {
      expect(Math.floor(position / 10)).toBe(Math.floor((position + piece.length - 1) / 10));
      position += piece.length;
    }
    expect(concatBytes(pieces)).toEqual(chunk);
  });
});
