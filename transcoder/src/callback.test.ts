/**
 * JobCallbacks checks its own reports against the shared schema: a malformed one (a bug on this
 * side) is never sent to the Worker.
 */
import { describe, expect, it } from "vitest";
import type { TranscodeProgress, TranscodeResult } from "../../contract/transcode.ts";
import { JobCallbacks, MalformedReportError } from "./callback.ts";

function callbacks(): { client: JobCallbacks; sent: Array<{ url: string; body: unknown }> } {
  const sent: Array<{ url: string; body: unknown }> = [];
  const fetchStub = (async (url: string, init?: RequestInit) => {
    sent.push({ url, body: JSON.parse(String(init?.body)) });
    return new Response(null, { status: url.endsWith("/progress") ? 200 : 204 });
  }) as typeof fetch;
  const client = new JobCallbacks({
    callbackBase: "http://worker.test/internal/jobs/v1",
    token: "t",
    signal: new AbortController().signal,
    fetch: fetchStub,
  });
  return { client, sent };
}

const good: TranscodeResult = {
  ok: true,
  durationSec: 2,
  renditions: [{ name: "240p", width: 320, height: 240, videoBitrate: 400_000, bandwidth: 700_000 }],
  sourceBytes: 10,
  sourceSha256: "a".repeat(64),
  encodeSeconds: 1,
};

describe("job callbacks", () => {
  it("never posts a malformed result or progress report", async () => {
    const { client, sent } = callbacks();
    const badResult = { ...good, renditions: "not-a-list" } as unknown as TranscodeResult;
    await expect(client.postResult(badResult)).rejects.toThrow(MalformedReportError);
    await expect(client.postResult(badResult)).rejects.toThrow(/renditions/);
    await expect(client.postProgress({ progress: Number.NaN, playable: false })).rejects.toThrow(/progress/);
    await expect(client.postProgress({ progress: 5 } as TranscodeProgress)).rejects.toThrow(/playable/);
    expect(sent).toEqual([]);
  });

  it("posts a well-formed report", async () => {
    const { client, sent } = callbacks();
    await client.postResult(good);
    expect(await client.postProgress({ progress: 50, playable: true })).toBe(true);
    expect(sent).toEqual([
      { url: "http://worker.test/internal/jobs/v1/result", body: good },
      { url: "http://worker.test/internal/jobs/v1/progress", body: { progress: 50, playable: true } },
    ]);
  });
});
