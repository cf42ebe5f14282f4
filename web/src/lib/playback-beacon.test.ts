/** The player's beacon module without a browser: a fake clock, timer, transport and window. */
import { describe, expect, it } from "vitest";
import { HEARTBEAT_MS, PlaybackBeacon, PlaybackTotals, buildEvent } from "./playback-beacon.ts";
import { MAX_ERROR_CHARS, PLAYBACK_EVENT_MAX_BYTES, type PlaybackEvent, validatePlaybackEvent } from "../../../contract/playback-events.ts";

const VIDEO = "0b0e7d4c-2f1a-4c3e-9a5b-6d7e8f901234";

function harness() {
  let t = 0;
  const sent: { url: string; event: PlaybackEvent; bytes: number }[] = [];
  let tick: (() => void) | null = null;
  let stopped = false;
  const beacon = new PlaybackBeacon({
    videoId: VIDEO,
    now: () => t,
    send: (url, body) => sent.push({ url, event: JSON.parse(body), bytes: new TextEncoder().encode(body).byteLength }),
    every: (ms, fn) => {
      expect(ms).toBe(HEARTBEAT_MS);
      tick = fn;
      return () => {
        stopped = true;
      };
    },
  });
  return {
    beacon,
    sent,
    advance: (ms: number) => {
      t += ms;
    },
    tick: () => tick?.(),
    stopped: () => stopped,
  };
}

describe("playback totals", () => {
  it("counts watched time while playing, rebuffer time and count while stalled, nothing while paused", () => {
    let t = 1000;
    const totals = new PlaybackTotals(() => t);
    totals.playing();
    t += 5000;
    totals.stalled();
    t += 1500;
    totals.stalled(); // the same stall reported twice is one
    t += 500;
    totals.playing();
    t += 3000;
    totals.paused();
    t += 60_000;
    totals.settle();
    expect(totals).toMatchObject({ watchedMs: 8000, rebufferMs: 2000, rebufferCount: 1 });
  });

  it("builds beacons the Worker accepts: whole ms, ranges clamped, long errors cut", () => {
    const base = { videoId: VIDEO, sessionId: crypto.randomUUID() };
    const event = buildEvent(
      base,
      "error",
      { watchedMs: 1234.6, rebufferMs: 0, rebufferCount: 0, tier: "480p" },
      { error: "x".repeat(1000) },
    );
    expect(event).not.toBeNull();
    expect(event!.watchedMs).toBe(1235);
    expect(event!.error).toHaveLength(MAX_ERROR_CHARS);
    expect(validatePlaybackEvent(event).ok).toBe(true);
    expect(new TextEncoder().encode(JSON.stringify(event)).byteLength).toBeLessThan(PLAYBACK_EVENT_MAX_BYTES);
    expect(
      buildEvent(base, "start", { watchedMs: 0, rebufferMs: 0, rebufferCount: 0, tier: undefined }, { startupMs: 1e9 })?.startupMs,
    ).toBe(600_000);
    expect(
      buildEvent({ videoId: "nope", sessionId: base.sessionId }, "start", {
        watchedMs: 0,
        rebufferMs: 0,
        rebufferCount: 0,
        tier: undefined,
      }),
    ).toBeNull();
  });
});

describe("PlaybackBeacon", () => {
  it("sends start once, heartbeats with cumulative totals only when they changed, and end when the page is hidden", () => {
    const h = harness();
    const listeners = new Map<string, () => void>();
    const doc = {
      visibilityState: "visible" as DocumentVisibilityState,
      addEventListener: (type: string, fn: () => void) => listeners.set(`doc:${type}`, fn),
      removeEventListener: (type: string) => listeners.delete(`doc:${type}`),
    };
    const win = {
      document: doc,
      addEventListener: (type: string, fn: () => void) => listeners.set(`win:${type}`, fn),
      removeEventListener: (type: string) => listeners.delete(`win:${type}`),
    };
    const detach = h.beacon.attach(win as never);
    h.beacon.setTier("240p");
    h.beacon.start(850);
    h.beacon.start(999);
    expect(h.sent.map((s) => s.event.type)).toEqual(["start"]);
    expect(h.sent[0]).toMatchObject({
      url: "/api/playback-events",
      event: { videoId: VIDEO, type: "start", startupMs: 850, tier: "240p" },
    });

    h.advance(30_000);
    h.tick();
    h.advance(10_000);
    h.beacon.setTier("480p"); // the 10 s so far are reported for 240p first
    h.advance(20_000);
    h.beacon.totals.paused();
    h.tick();
    h.tick(); // paused: nothing new, nothing sent
    expect(h.sent.map((s) => [s.event.type, s.event.watchedMs, s.event.tier])).toEqual([
      ["start", 0, "240p"],
      ["heartbeat", 30_000, "240p"],
      ["heartbeat", 40_000, "240p"],
      ["heartbeat", 60_000, "480p"],
    ]);

    doc.visibilityState = "hidden";
    listeners.get("doc:visibilitychange")!();
    listeners.get("win:pagehide")!();
    expect(h.sent.slice(-2).map((s) => [s.event.type, s.event.watchedMs])).toEqual([
      ["end", 60_000],
      ["end", 60_000],
    ]);
    // One session id for the whole page view; nothing personal in any beacon.
    expect(new Set(h.sent.map((s) => s.event.sessionId)).size).toBe(1);
    // (The validator refuses any field outside the contract's list.)
    for (const s of h.sent) expect(validatePlaybackEvent(s.event).ok).toBe(true);
    detach();
    expect(listeners.size).toBe(0);
    expect(h.stopped()).toBe(true);
  });

  it("reports a fatal error even before the first frame, and sends nothing else before start", () => {
    const h = harness();
    h.beacon.heartbeat();
    h.beacon.end();
    h.beacon.error("manifestLoadError");
    expect(h.sent.map((s) => [s.event.type, s.event.error])).toEqual([["error", "manifestLoadError"]]);
  });
});
