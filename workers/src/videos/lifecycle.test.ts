import { describe, expect, it } from "vitest";
import { VIDEO_STATUSES, type VideoStatus } from "../../../contract/video.ts";
import { MAX_ATTEMPTS, backoffMs } from "../jobs/policy.ts";
import { HELD_MESSAGES as GATE_HELD_MESSAGES } from "../costs/gate.ts";
import {
  HELD_MESSAGES,
  MESSAGES,
  RUNNING,
  STALLED_REASON,
  TRANSITIONS,
  afterFailure,
  allowedActions,
  nextStatus,
  type VideoEventType,
} from "./lifecycle.ts";

/** The whole machine written out: event → (from → to). Every pair not listed must be refused. */
const EXPECTED: Record<VideoEventType, Partial<Record<VideoStatus, VideoStatus>>> = {
  uploaded: { UPLOADING: "QUEUED" },
  expired: { UPLOADING: "FAILED" },
  held: { QUEUED: "HELD", HELD: "HELD" },
  claimed: { QUEUED: "PROCESSING", HELD: "PROCESSING" },
  released: { PROCESSING: "QUEUED" },
  progressed: { PROCESSING: "PROCESSING" },
  playable: { PROCESSING: "PROCESSING" },
  succeeded: { PROCESSING: "READY" },
  retrying: { PROCESSING: "QUEUED" },
  failed: { PROCESSING: "FAILED" },
  cancelled: { UPLOADING: "CANCELLED", QUEUED: "CANCELLED", HELD: "CANCELLED", PROCESSING: "CANCELLED" },
  retried: { FAILED: "QUEUED", CANCELLED: "QUEUED" },
  prioritized: { QUEUED: "QUEUED", HELD: "HELD" },
};

describe("the transition table", () => {
  it("names every event once", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const event of Object.keys(EXPECTED) as VideoEventType[]) {
    it(`${event}: allowed only from its statuses, to its status`, () => {
      for (const status of VIDEO_STATUSES) {
        expect(nextStatus(event, status), `${event} from ${status}`).toBe(EXPECTED[event][status] ?? null);
      }
    });
  }

  it("a READY video is final: no event moves it", () => {
    for (const event of Object.keys(TRANSITIONS) as VideoEventType[]) expect(nextStatus(event, "READY")).toBeNull();
  });

  it("only a run's own events are scoped to the run, and they all start from a running video", () => {
    const scoped = (Object.keys(TRANSITIONS) as VideoEventType[]).filter((e) => TRANSITIONS[e].runScoped).sort();
    expect(scoped).toEqual(["failed", "playable", "progressed", "released", "retrying", "succeeded"]);
    for (const e of scoped) expect(TRANSITIONS[e].from).toEqual([RUNNING]);
  });
});

describe("the retry-or-fail rule", () => {
  it("retries with exponential backoff while attempts are left", () => {
    for (let attempts = 1; attempts < MAX_ATTEMPTS; attempts++) {
      const outcome = afterFailure({ attempts, reason: "ffmpeg crashed", retryBaseMs: 1000 });
      expect(outcome).toEqual({
        event: "retrying",
        reason: "ffmpeg crashed",
        waitMs: backoffMs(attempts, 1000),
        message: MESSAGES.RETRYING(attempts, "ffmpeg crashed", backoffMs(attempts, 1000) / 1000),
      });
    }
    expect(afterFailure({ attempts: 1, reason: "x" })).toMatchObject({ waitMs: 30_000 });
    expect(afterFailure({ attempts: 2, reason: "x" })).toMatchObject({ waitMs: 120_000 });
  });

  it("fails after the last attempt, or at once when the failure is permanent", () => {
    expect(afterFailure({ attempts: MAX_ATTEMPTS, reason: "ffmpeg crashed" })).toEqual({
      event: "failed",
      reason: "ffmpeg crashed",
      message: "This video could not be processed. Ffmpeg crashed.",
    });
    expect(afterFailure({ attempts: 1, reason: "Not a video.", permanent: true })).toMatchObject({ event: "failed" });
  });

  it("a lost lease goes through the same rule", () => {
    expect(afterFailure({ attempts: 1, reason: STALLED_REASON })).toMatchObject({ event: "retrying" });
    expect(afterFailure({ attempts: MAX_ATTEMPTS, reason: STALLED_REASON })).toMatchObject({
      event: "failed",
      message: "This video could not be processed. The transcoder stopped responding.",
    });
  });
});

describe("messages", () => {
  it("are full sentences", () => {
    for (const [key, value] of Object.entries(MESSAGES)) {
      const text = typeof value === "string" ? value : key === "RETRYING" ? MESSAGES.RETRYING(1, "x", 30) : MESSAGES.FAILED("x");
      expect(text, key).toMatch(/^[A-Z].*[.)]$/);
    }
  });

  it("say which attempt failed, when the next comes and why", () => {
    expect(MESSAGES.RETRYING(1, "ffmpeg crashed", 30)).toBe("Attempt 1 of 3 failed; trying again in 30 s. Ffmpeg crashed.");
    expect(MESSAGES.FAILED("The file has no video stream.")).toBe("This video could not be processed. The file has no video stream.");
  });

  it("the held sentences are the ones the budget gate uses", () => {
    expect(GATE_HELD_MESSAGES).toBe(HELD_MESSAGES);
    expect(HELD_MESSAGES.BUDGET).toBe(MESSAGES.HELD_BUDGET);
    expect(HELD_MESSAGES.SWITCHED_OFF).toBe(MESSAGES.HELD_SWITCHED_OFF);
  });
});

describe("allowedActions", () => {
  it("follows the table for every status", () => {
    const expected: Record<VideoStatus, { cancel: boolean; retry: boolean; prioritize: boolean }> = {
      UPLOADING: { cancel: true, retry: false, prioritize: false },
      QUEUED: { cancel: true, retry: false, prioritize: true },
      HELD: { cancel: true, retry: false, prioritize: true },
      PROCESSING: { cancel: true, retry: false, prioritize: false },
      READY: { cancel: false, retry: false, prioritize: false },
      FAILED: { cancel: false, retry: true, prioritize: false },
      CANCELLED: { cancel: false, retry: true, prioritize: false },
    };
    for (const status of VIDEO_STATUSES) expect(allowedActions({ status }), status).toEqual(expected[status]);
  });
});
