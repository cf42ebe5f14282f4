import { describe, expect, it } from "vitest";
import { type PatchRequest, type UploadFacts, checkAccess, checkPatch, precheckPatch } from "./offset-rules.ts";

const NOW = 1_000_000;
const upload = (extra: Partial<UploadFacts> = {}): UploadFacts => ({
  ownerId: "alice",
  state: "receiving",
  offset: 100,
  length: 1000,
  maxBytes: 5000,
  expiresAt: NOW + 1,
  ...extra,
});
const request = (extra: Partial<PatchRequest> = {}): PatchRequest => ({
  ownerId: "alice",
  offset: 100,
  length: null,
  contentLength: null,
  checksum: null,
  ...extra,
});
const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? "ok" : result.code);

describe("checkAccess", () => {
  it("lets the owner in and hands the upload back", () => {
    const facts = upload();
    expect(checkAccess(facts, "alice", NOW)).toEqual({ ok: true, value: facts });
  });

  it.each([
    ["a missing upload", null, "alice"],
    ["another user's upload", upload(), "bob"],
    ["a terminated upload", upload({ state: "terminated" }), "alice"],
  ])("answers %s exactly like a missing one (404)", (_, facts, owner) => {
    expect(codeOf(checkAccess(facts, owner, NOW))).toBe("UPLOAD_NOT_FOUND");
    expect(codeOf(checkAccess(facts, owner, NOW, { allowExpired: true }))).toBe("UPLOAD_NOT_FOUND");
  });

  it("answers 410 for an expired upload, and for a receiving one past its time before the sweep", () => {
    expect(codeOf(checkAccess(upload({ state: "expired" }), "alice", NOW))).toBe("UPLOAD_EXPIRED");
    expect(codeOf(checkAccess(upload({ expiresAt: NOW }), "alice", NOW))).toBe("UPLOAD_EXPIRED");
  });

  it("never expires a finished upload (a lost final response must not restart it)", () => {
    for (const state of ["finalizing", "complete"] as const) {
      expect(codeOf(checkAccess(upload({ state, expiresAt: NOW - 1 }), "alice", NOW))).toBe("ok");
    }
  });

  it("lets termination reach an expired upload", () => {
    expect(codeOf(checkAccess(upload({ state: "expired" }), "alice", NOW, { allowExpired: true }))).toBe("ok");
  });
});

describe("precheckPatch: what no running PATCH can make right", () => {
  it.each([
    ["a different length once it is set", upload(), request({ length: 999 }), "LENGTH_ALREADY_SET"],
    ["a declared length of zero", upload({ length: null, offset: 0 }), request({ offset: 0, length: 0 }), "EMPTY_UPLOAD"],
    ["a declared length over the maximum", upload({ length: null }), request({ length: 5001 }), "TOO_LARGE"],
    ["an offset past the committed one", upload(), request({ offset: 101 }), "OFFSET_MISMATCH"],
    ["a body past the declared length", upload(), request({ contentLength: 901 }), "BODY_PAST_LENGTH"],
    [
      "a body past the length this PATCH declares",
      upload({ length: null }),
      request({ length: 500, contentLength: 401 }),
      "BODY_PAST_LENGTH",
    ],
    ["a body past the maximum of a deferred upload", upload({ length: null }), request({ contentLength: 4901 }), "TOO_LARGE"],
  ])("refuses %s", (_, facts, req, code) => {
    expect(codeOf(precheckPatch(facts, req))).toBe(code);
  });

  it("lets through what a running PATCH may still make right: an offset behind the committed one", () => {
    // The running PATCH only moves the offset up; the exact check waits until it has stopped.
    expect(codeOf(precheckPatch(upload(), request({ offset: 50 })))).toBe("ok");
  });

  it("accepts a body that ends exactly at the length, and the same length sent again", () => {
    expect(codeOf(precheckPatch(upload(), request({ contentLength: 900, length: 1000 })))).toBe("ok");
  });
});

describe("checkPatch: every rule, once the PATCH is the only one", () => {
  it("refuses an offset that is not the current one, without changing anything (409)", () => {
    expect(codeOf(checkPatch(upload(), request({ offset: 99 })))).toBe("OFFSET_MISMATCH");
  });

  it("refuses a declared length below the bytes already received", () => {
    expect(codeOf(checkPatch(upload({ length: null }), request({ length: 99 })))).toBe("LENGTH_BELOW_OFFSET");
  });

  it("runs the pre-checks too", () => {
    expect(codeOf(checkPatch(upload(), request({ offset: 101 })))).toBe("OFFSET_MISMATCH");
    expect(codeOf(checkPatch(upload(), request({ length: 2000 })))).toBe("LENGTH_ALREADY_SET");
  });

  it("answers the length to store when a deferred-length upload learns it, else null", () => {
    expect(checkPatch(upload({ length: null }), request({ length: 700 }))).toEqual({ ok: true, value: 700 });
    expect(checkPatch(upload({ length: null }), request())).toEqual({ ok: true, value: null });
    expect(checkPatch(upload(), request({ length: 1000 }))).toEqual({ ok: true, value: null });
  });
});
