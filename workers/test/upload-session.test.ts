import { createScheduledController, env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index.ts";
import type { UploadSession, PatchRequest } from "../src/tus/upload-session.ts";
import { MiB } from "../src/tus/part-layout.ts";
import { findVideo } from "../src/db/videos.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { createUpload, digestOf, head, patch, r2Digest, randomBytes, tokenFor } from "./helpers.ts";

let alice: string;
beforeAll(async () => {
  alice = await tokenFor("alice");
});

const request = (offset: number, extra: Partial<PatchRequest> = {}): PatchRequest => ({
  ownerId: "alice",
  offset,
  length: null,
  contentLength: null,
  checksum: null,
  ...extra,
});

/** Runs `fn` inside the upload's Durable Object, with the instance itself. */
function inSession<R>(id: string, fn: (session: UploadSession, state: DurableObjectState) => R | Promise<R>): Promise<R> {
  return runInDurableObject(env.UPLOAD_SESSION.getByName(id), fn as never) as Promise<R>;
}

/** A body that delivers `bytes` in 64 KiB chunks and then breaks like a dropped connection, or hangs. */
function bodyThat(bytes: Uint8Array, end: "breaks" | "hangs"): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at < bytes.length) {
        const next = bytes.subarray(at, at + 64 * 1024);
        at += next.length;
        controller.enqueue(next);
        return;
      }
      if (end === "breaks") controller.error(new Error("Network connection lost."));
      else return new Promise(() => {}); // never resolves: a client that went silent
    },
  });
}

describe("UploadSession", () => {
  it("keeps every byte of a body that breaks off mid-PATCH", async () => {
    const { url, id } = await createUpload(alice, 20 * MiB);
    const sent = randomBytes(9 * MiB + 300 * 1024, 5);
    const offset = await inSession(id, async (session) => {
      await session.patch(request(0), bodyThat(sent, "breaks"));
      const info = await session.info("alice");
      return info.ok ? info.value.offset : -1;
    });
    expect(offset).toBe(sent.length);
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe(String(sent.length));
    // Resume from there and finish: the object is byte-exact.
    const rest = randomBytes(20 * MiB - sent.length, 6);
    expect((await patch(alice, url, sent.length, rest)).status).toBe(204);
    const whole = new Uint8Array(20 * MiB);
    whole.set(sent);
    whole.set(rest, sent.length);
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(whole));
  });

  it("never interleaves two PATCHes: the newer one stops the older, which keeps what it read", async () => {
    const { url, id } = await createUpload(alice, 4 * MiB);
    const first = randomBytes(300 * 1024, 9);
    const outcome = await inSession(id, async (session) => {
      const older = session.patch(request(0), bodyThat(first, "hangs"));
      await new Promise((r) => setTimeout(r, 50));
      const newer = await session.patch(request(0), bodyThat(randomBytes(10), "breaks"));
      return { older: await older, newer };
    });
    expect(outcome.newer).toMatchObject({ ok: false, code: "OFFSET_MISMATCH" });
    expect(outcome.older).toMatchObject({ ok: true, value: { offset: first.length } });
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe(String(first.length));
  });

  it("loses nothing while R2 refuses part writes: 503 with the bytes kept, then the next PATCH flushes them", async () => {
    const { url, id } = await createUpload(alice, 10 * MiB);
    const bytes = randomBytes(10 * MiB, 13);
    const results = await inSession(id, async (session) => {
      const real = env.MEDIA;
      let r2Down = true;
      const flaky = Object.create(real) as R2Bucket;
      const wrap = (upload: R2MultipartUpload): R2MultipartUpload =>
        Object.assign(Object.create(upload), {
          uploadPart: (n: number, data: Uint8Array) => (r2Down ? Promise.reject(new Error("R2 is down")) : upload.uploadPart(n, data)),
          complete: upload.complete.bind(upload),
          abort: upload.abort.bind(upload),
        });
      flaky.createMultipartUpload = async (key, options) => wrap(await real.createMultipartUpload(key, options));
      flaky.resumeMultipartUpload = (key, uploadId) => wrap(real.resumeMultipartUpload(key, uploadId));
      flaky.head = real.head.bind(real);
      (session as unknown as { env: Env }).env = { ...env, MEDIA: flaky };
      const first = await session.patch(request(0), bodyThat(bytes.subarray(0, 9 * MiB), "breaks"));
      r2Down = false;
      const second = await session.patch(request(9 * MiB), bodyThat(bytes.subarray(9 * MiB), "breaks"));
      return { first, second };
    });
    // Every part write of the first PATCH failed: its bytes are kept (counted) and the client is told to retry.
    expect(results.first).toMatchObject({ ok: false, code: "STORAGE_FAILED" });
    expect(results.second).toMatchObject({ ok: true, value: { offset: 10 * MiB, state: "complete" } });
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe(String(10 * MiB));
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
  });

  it("discards a checksummed chunk that broke off (it cannot be verified)", async () => {
    const { id } = await createUpload(alice, 4 * MiB);
    const result = await inSession(id, async (session) => {
      const checksum = { algorithm: "sha1" as const, digest: new Uint8Array(20) };
      const outcome = await session.patch(request(0, { checksum }), bodyThat(randomBytes(2 * MiB), "breaks"));
      const info = await session.info("alice");
      return { outcome, offset: info.ok ? info.value.offset : -1 };
    });
    expect(result.outcome).toMatchObject({ ok: false, code: "CHECKSUM_MISMATCH" });
    expect(result.offset).toBe(0);
  });
});

/** A body the test feeds by hand: `push` bytes, then `close`. */
function controlledBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
  });
  return { stream, push: (bytes: Uint8Array) => controller.enqueue(bytes), close: () => controller.close() };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe("a PATCH that cannot be right does not disturb the running one", () => {
  it("another user's PATCH gets 404 while the owner's body goes on and completes byte-exact", async () => {
    const { url, id } = await createUpload(alice, 3 * MiB);
    const bytes = randomBytes(3 * MiB, 21);
    const outcome = await inSession(id, async (session) => {
      const body = controlledBody();
      const owners = session.patch(request(0), body.stream);
      body.push(bytes.subarray(0, MiB));
      await settle();
      const intruder = await session.patch(request(0, { ownerId: "bob" }), bodyThat(randomBytes(10), "breaks"));
      body.push(bytes.subarray(MiB));
      body.close();
      return { intruder, owners: await owners };
    });
    expect(outcome.intruder).toMatchObject({ ok: false, code: "UPLOAD_NOT_FOUND" });
    expect(outcome.owners).toMatchObject({ ok: true, value: { offset: 3 * MiB, state: "complete" } });
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe(String(3 * MiB));
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
  });

  it("an offset past the committed one gets 409 at once; the running PATCH goes on", async () => {
    const { id } = await createUpload(alice, 2 * MiB);
    const bytes = randomBytes(2 * MiB, 22);
    const outcome = await inSession(id, async (session) => {
      const body = controlledBody();
      const owners = session.patch(request(0), body.stream);
      body.push(bytes.subarray(0, MiB));
      await settle();
      const ahead = await session.patch(request(MiB + 1), bodyThat(randomBytes(10), "breaks"));
      const tooLong = await session.patch(request(0, { contentLength: 2 * MiB + 1 }), bodyThat(randomBytes(10), "breaks"));
      body.push(bytes.subarray(MiB));
      body.close();
      return { ahead, tooLong, owners: await owners };
    });
    expect(outcome.ahead).toMatchObject({ ok: false, code: "OFFSET_MISMATCH" });
    expect(outcome.tooLong).toMatchObject({ ok: false, code: "BODY_PAST_LENGTH" });
    expect(outcome.owners).toMatchObject({ ok: true, value: { offset: 2 * MiB, state: "complete" } });
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
  });
});

describe("a body that stalls", () => {
  it("ends by itself after the idle timeout, keeping and counting what arrived", async () => {
    const { url, id } = await createUpload(alice, 4 * MiB);
    const sent = randomBytes(3000, 23);
    const outcome = await inSession(id, async (session) => {
      (session as unknown as { env: Env }).env = { ...env, UPLOAD_IDLE_TIMEOUT_SECONDS: "1" };
      return session.patch(request(0), bodyThat(sent, "hangs"));
    });
    // The answer is a success with the real offset: the client resumes from there.
    expect(outcome).toMatchObject({ ok: true, value: { offset: sent.length, state: "receiving" } });
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe(String(sent.length));
  });

  it("discards a checksummed chunk that stalls (it cannot be verified)", async () => {
    const { id } = await createUpload(alice, 4 * MiB);
    const outcome = await inSession(id, async (session) => {
      (session as unknown as { env: Env }).env = { ...env, UPLOAD_IDLE_TIMEOUT_SECONDS: "1" };
      const checksum = { algorithm: "sha1" as const, digest: new Uint8Array(20) };
      return session.patch(request(0, { checksum }), bodyThat(randomBytes(3000), "hangs"));
    });
    expect(outcome).toMatchObject({ ok: false, code: "CHECKSUM_MISMATCH", detail: expect.stringContaining("stalled") });
  });
});

describe("expiry cron", () => {
  it("aborts expired uploads, frees their bytes, marks the video FAILED, and HEAD answers 410", async () => {
    const { url, id } = await createUpload(alice, 20 * MiB);
    await patch(alice, url, 0, randomBytes(9 * MiB));
    const fresh = await createUpload(alice, 100);

    const controller = createScheduledController({ cron: "0 */6 * * *", scheduledTime: Date.now() + 49 * 3600_000 });
    // Only the first upload is past its time at the controller's clock, if we move the second's forward.
    await runInDurableObject(env.UPLOAD_SESSION.getByName(fresh.id), (_, state) => {
      state.storage.sql.exec("UPDATE upload SET expires_at = ?", Date.now() + 100 * 3600_000);
    });
    await env.DB.prepare("UPDATE videos SET upload_expires_at = ? WHERE id = ?")
      .bind(Date.now() + 100 * 3600_000, fresh.id)
      .run();
    await worker.scheduled(controller, env);

    expect(await findVideo(env.DB, id)).toMatchObject({ status: "FAILED", error: "upload expired" });
    expect((await head(alice, url)).status).toBe(410);
    const left = await runInDurableObject(env.UPLOAD_SESSION.getByName(id), (_, state) => ({
      tail: state.storage.sql.exec("SELECT COUNT(*) AS n FROM tail").one().n,
      parts: state.storage.sql.exec("SELECT COUNT(*) AS n FROM part").one().n,
    }));
    expect(left).toEqual({ tail: 0, parts: 0 });
    expect(await findVideo(env.DB, fresh.id)).toMatchObject({ status: "UPLOADING" });
  });
});
