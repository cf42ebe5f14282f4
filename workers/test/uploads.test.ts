import { SELF, createExecutionContext, env, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../src/index.ts";
import {
  BASE,
  UPLOADS,
  createUpload,
  digestBase64,
  head,
  metadataHeader,
  patch,
  r2Digest,
  digestOf,
  randomBytes,
  tokenFor,
  tus,
} from "./helpers.ts";
import { sourceKey } from "../src/storage/keys.ts";
import { findVideo, markUploadExpired } from "../src/db/videos.ts";
import { MiB } from "../src/tus/part-layout.ts";

let alice: string;
let bob: string;
beforeAll(async () => {
  alice = await tokenFor("alice");
  bob = await tokenFor("bob");
});

/** A request body without Content-Length (chunked), delivered in the given pieces. */
function chunked(...pieces: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

describe("discovery (OPTIONS)", () => {
  it("answers without auth, with the tus headers and CORS", async () => {
    const res = await SELF.fetch(UPLOADS, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Tus-Version")).toBe("1.0.0");
    expect(res.headers.get("Tus-Max-Size")).toBe("524288000");
    expect(res.headers.get("Tus-Checksum-Algorithm")).toBe("sha1,sha256");
    expect(res.headers.get("Tus-Extension")).toContain("creation-defer-length");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("Upload-Offset");
    expect(res.headers.get("Tus-Resumable")).toBeNull();
  });
});

describe("creation (POST)", () => {
  it("creates an upload whose id is the video id, with Location and Upload-Expires", async () => {
    const { res, url, id } = await createUpload(alice, 1234);
    expect(res.status).toBe(201);
    expect(url).toBe(`${UPLOADS}/${id}`);
    expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
    const expires = Date.parse(res.headers.get("Upload-Expires")!);
    expect(expires - Date.now()).toBeGreaterThan(47 * 3600_000);
    const video = await findVideo(env.DB, id);
    expect(video).toMatchObject({ ownerId: "alice", status: "UPLOADING", title: "clip", filename: "clip.mp4", sourceBytes: 1234 });
  });

  it.each([
    ["no Tus-Resumable", { "Tus-Resumable": "" }, 412],
    ["an old Tus-Resumable", { "Tus-Resumable": "0.2.2" }, 412],
    ["no length", { "Upload-Length": "" }, 400],
    ["a zero length", { "Upload-Length": "0" }, 400],
    ["a negative length", { "Upload-Length": "-5" }, 400],
    ["a length over Tus-Max-Size", { "Upload-Length": String(524288001) }, 413],
    ["malformed metadata", { "Upload-Metadata": "filename" + " !!" }, 400],
    ["a non-video type", { "Upload-Metadata": metadataHeader({ filename: "a.png", filetype: "image/png" }) }, 400],
    ["no filename", { "Upload-Metadata": metadataHeader({ filetype: "video/mp4" }) }, 400],
  ])("refuses %s", async (_, override, status) => {
    const headers = tus(alice, { "Upload-Length": "100", "Upload-Metadata": metadataHeader({ filename: "a.mp4", filetype: "video/mp4" }) });
    for (const [k, v] of Object.entries(override)) {
      if (v === "") delete headers[k];
      else headers[k] = v;
    }
    const res = await SELF.fetch(UPLOADS, { method: "POST", headers });
    expect(res.status).toBe(status);
    expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
    // "… MUST include the Tus-Version header into the response" (412 only).
    expect(res.headers.get("Tus-Version")).toBe(status === 412 ? "1.0.0" : null);
    expect((await res.text()).length).toBeGreaterThan(10);
  });

  it("answers an unsupported Tus-Resumable on HEAD and PATCH with 412 and Tus-Version", async () => {
    const { url } = await createUpload(alice, 100);
    for (const method of ["HEAD", "PATCH"]) {
      const res = await SELF.fetch(url, {
        method,
        headers: tus(alice, { "Tus-Resumable": "0.2.2", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }),
      });
      expect(res.status, method).toBe(412);
      expect(res.headers.get("Tus-Version"), method).toBe("1.0.0");
    }
  });

  it("needs a valid JWT", async () => {
    const headers = tus(null, { "Upload-Length": "10", "Upload-Metadata": metadataHeader({ filename: "a.mp4", filetype: "video/mp4" }) });
    expect((await SELF.fetch(UPLOADS, { method: "POST", headers })).status).toBe(401);
    const forged = `${alice.slice(0, -4)}AAAA`;
    expect((await SELF.fetch(UPLOADS, { method: "POST", headers: { ...headers, Authorization: `Bearer ${forged}` } })).status).toBe(401);
  });

  it("creation-with-upload stores the first bytes", async () => {
    const bytes = randomBytes(1000);
    const res = await SELF.fetch(UPLOADS, {
      method: "POST",
      headers: tus(alice, {
        "Upload-Length": "3000",
        "Upload-Metadata": metadataHeader({ filename: "a.mp4", filetype: "video/mp4" }),
        "Content-Type": "application/offset+octet-stream",
      }),
      body: bytes,
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Upload-Offset")).toBe("1000");
  });
});

describe("HEAD", () => {
  it("reports offset, length, metadata, expiry and forbids caching", async () => {
    const meta = metadataHeader({ filename: "رحلة.mp4", filetype: "video/mp4" });
    const { url } = await createUpload(alice, 5000, { "Upload-Metadata": meta });
    await patch(alice, url, 0, randomBytes(1200));
    const res = await head(alice, url);
    expect(res.status).toBe(200);
    expect(res.headers.get("Upload-Offset")).toBe("1200");
    expect(res.headers.get("Upload-Length")).toBe("5000");
    expect(res.headers.get("Upload-Metadata")).toBe(meta);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Upload-Expires")).toMatch(/GMT$/);
  });

  it("answers 404 for another user's upload, an unknown id and a malformed id", async () => {
    const { url } = await createUpload(alice, 10);
    expect((await head(bob, url)).status).toBe(404);
    expect((await head(alice, `${UPLOADS}/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await head(alice, `${UPLOADS}/..%2F..%2Fetc`)).status).toBe(404);
  });

  it("GET on an upload is not part of tus: 405", async () => {
    const { url } = await createUpload(alice, 10);
    expect((await SELF.fetch(url, { headers: tus(alice) })).status).toBe(405);
  });
});

describe("PATCH", () => {
  it("appends at the offset and refuses a wrong offset with 409", async () => {
    const { url } = await createUpload(alice, 3000);
    const first = await patch(alice, url, 0, randomBytes(1000));
    expect(first.status).toBe(204);
    expect(first.headers.get("Upload-Offset")).toBe("1000");
    expect((await patch(alice, url, 0, randomBytes(10))).status).toBe(409);
    expect((await patch(alice, url, 2000, randomBytes(10))).status).toBe(409);
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe("1000");
  });

  it("needs application/offset+octet-stream (415) and an Upload-Offset (400)", async () => {
    const { url } = await createUpload(alice, 3000);
    expect((await patch(alice, url, 0, "x", { "Content-Type": "application/json" })).status).toBe(415);
    const noOffset = await SELF.fetch(url, {
      method: "PATCH",
      headers: tus(alice, { "Content-Type": "application/offset+octet-stream" }),
      body: "x",
    });
    expect(noOffset.status).toBe(400);
  });

  it("answers 404 to another user, who cannot add bytes", async () => {
    const { url } = await createUpload(alice, 3000);
    expect((await patch(bob, url, 0, randomBytes(10))).status).toBe(404);
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe("0");
  });

  it("answers 413 for a body past Upload-Length", async () => {
    const { url } = await createUpload(alice, 100);
    expect((await patch(alice, url, 0, randomBytes(101))).status).toBe(413);
  });

  it("completes a chunked body that runs past Upload-Length on its first Upload-Length bytes, and says so", async () => {
    const { url, id } = await createUpload(alice, 100);
    const bytes = randomBytes(150, 31);
    const res = await patch(alice, url, 0, chunked(bytes.subarray(0, 60), bytes.subarray(60)));
    expect(res.status).toBe(204);
    expect(res.headers.get("Upload-Offset")).toBe("100");
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe("100");
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "QUEUED", sourceBytes: 100 });
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes.subarray(0, 100)));
  });

  it("creation-with-upload reports the real offset when the chunked body runs past the length", async () => {
    const bytes = randomBytes(150, 32);
    const res = await SELF.fetch(UPLOADS, {
      method: "POST",
      headers: tus(alice, {
        "Upload-Length": "100",
        "Upload-Metadata": metadataHeader({ filename: "a.mp4", filetype: "video/mp4" }),
        "Content-Type": "application/offset+octet-stream",
      }),
      body: chunked(bytes.subarray(0, 60), bytes.subarray(60)),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Upload-Offset")).toBe("100");
    const url = res.headers.get("Location")!;
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe("100");
  });

  it("a slow body is stored as it goes: HEAD reports its bytes while the PATCH still runs", async () => {
    const { url } = await createUpload(alice, 10_000);
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
    });
    let answered = false;
    const running = patch(alice, url, 0, body).then((res) => {
      answered = true;
      return res;
    });
    let sent = 0;
    let seen = 0;
    // Trickle 100 bytes every 200 ms until HEAD sees some of them (or 20 s pass: a failure).
    for (const deadline = Date.now() + 20_000; seen === 0 && Date.now() < deadline; ) {
      controller.enqueue(randomBytes(100, sent + 1));
      sent += 100;
      await new Promise((r) => setTimeout(r, 200));
      seen = Number((await head(alice, url)).headers.get("Upload-Offset"));
    }
    expect(answered).toBe(false);
    expect(seen).toBeGreaterThan(0);
    controller.close();
    const res = await running;
    expect(res.status).toBe(204);
    expect(res.headers.get("Upload-Offset")).toBe(String(sent));
  }, 30_000);

  it("verifies sha1 and sha256 checksums: 460 on mismatch keeps nothing, 400 on unknown algorithm", async () => {
    const { url } = await createUpload(alice, 3000);
    const chunk = randomBytes(1000, 7);
    const sha1 = await digestBase64("SHA-1", chunk);
    expect((await patch(alice, url, 0, chunk, { "Upload-Checksum": `sha1 ${sha1}` })).status).toBe(204);
    const next = randomBytes(1000, 8);
    const wrong = await patch(alice, url, 1000, next, { "Upload-Checksum": `sha256 ${await digestBase64("SHA-256", chunk)}` });
    expect(wrong.status).toBe(460);
    expect((await head(alice, url)).headers.get("Upload-Offset")).toBe("1000");
    const right = await patch(alice, url, 1000, next, { "Upload-Checksum": `sha256 ${await digestBase64("SHA-256", next)}` });
    expect(right.headers.get("Upload-Offset")).toBe("2000");
    expect((await patch(alice, url, 2000, next, { "Upload-Checksum": `md5 ${sha1}` })).status).toBe(400);
  });

  it("accepts X-HTTP-Method-Override: PATCH on a POST", async () => {
    const { url } = await createUpload(alice, 100);
    const res = await SELF.fetch(url, {
      method: "POST",
      headers: tus(alice, { "X-HTTP-Method-Override": "PATCH", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" }),
      body: randomBytes(40),
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Upload-Offset")).toBe("40");
  });

  it("answers 410 once the upload has expired", async () => {
    const { url, id } = await createUpload(alice, 100);
    await runInDurableObject(env.UPLOAD_SESSION.getByName(id), (_, state) => {
      state.storage.sql.exec("UPDATE upload SET expires_at = ?", Date.now() - 1);
    });
    expect((await patch(alice, url, 0, randomBytes(10))).status).toBe(410);
    expect((await head(alice, url)).status).toBe(410);
  });
});

describe("deferred length", () => {
  it("takes Upload-Length later, refuses 0 and over the cap, and completes", async () => {
    const { res, url, id } = await createUpload(alice, "defer");
    expect(res.status).toBe(201);
    const h = await head(alice, url);
    expect(h.headers.get("Upload-Defer-Length")).toBe("1");
    expect(h.headers.get("Upload-Length")).toBeNull();
    const bytes = randomBytes(3000, 3);
    expect((await patch(alice, url, 0, bytes.subarray(0, 1000))).status).toBe(204);
    expect((await patch(alice, url, 1000, null, { "Upload-Length": "0" })).status).toBe(400);
    expect((await patch(alice, url, 1000, null, { "Upload-Length": "600000000" })).status).toBe(413);
    const last = await patch(alice, url, 1000, bytes.subarray(1000), { "Upload-Length": "3000" });
    expect(last.status).toBe(204);
    expect(last.headers.get("Upload-Length")).toBe("3000");
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
  });
});

describe("a whole multi-part upload", () => {
  it("lands byte-exact in R2 across equal-size parts, queues the video, and still answers HEAD", async () => {
    const size = 19 * MiB + 12345; // two full 8 MiB parts and a short last part
    const bytes = randomBytes(size, 11);
    const { url, id } = await createUpload(alice, size);
    // Chunks that do not line up with part boundaries.
    const cuts = [0, 3 * MiB + 7, 9 * MiB, 16 * MiB + 1, size];
    for (let i = 0; i < cuts.length - 1; i++) {
      const res = await patch(alice, url, cuts[i], bytes.subarray(cuts[i], cuts[i + 1]));
      expect(res.status).toBe(204);
      expect(res.headers.get("Upload-Offset")).toBe(String(cuts[i + 1]));
    }
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "QUEUED", sourceBytes: size });
    // A client whose final response was lost asks again and learns it is done.
    const again = await head(alice, url);
    expect(again.status).toBe(200);
    expect(again.headers.get("Upload-Offset")).toBe(String(size));
    expect(again.headers.get("Upload-Expires")).toBeNull();
  });
});

describe("a whole checksummed upload", () => {
  it("lands byte-exact when every chunk carries a checksum", async () => {
    const size = 21 * MiB + 4321;
    const bytes = randomBytes(size, 12);
    const { url, id } = await createUpload(alice, size);
    for (let at = 0; at < size; at += 6 * MiB) {
      const chunk = bytes.subarray(at, Math.min(size, at + 6 * MiB));
      const res = await patch(alice, url, at, chunk, { "Upload-Checksum": `sha1 ${await digestBase64("SHA-1", chunk)}` });
      expect(res.status).toBe(204);
    }
    expect(await r2Digest(sourceKey(id))).toEqual(await digestOf(bytes));
    expect(await findVideo(env.DB, id)).toMatchObject({ status: "QUEUED" });
  });
});

describe("per-user quota of unfinished uploads", () => {
  /** The Worker with lower quota limits than the test suite's. */
  async function createWithLimits(token: string, length: number | "defer", limits: Record<string, string>) {
    const ctx = createExecutionContext();
    const lengthHeader: Record<string, string> = length === "defer" ? { "Upload-Defer-Length": "1" } : { "Upload-Length": String(length) };
    const res = await worker.fetch(
      new Request(UPLOADS, {
        method: "POST",
        headers: tus(token, { "Upload-Metadata": metadataHeader({ filename: "q.mp4", filetype: "video/mp4" }), ...lengthHeader }),
      }),
      { ...env, ...limits },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  }

  it("lets only the allowed number of uploads through, even when 40 are created at once", async () => {
    const greedy = await tokenFor("greedy");
    const limits = { MAX_OPEN_UPLOADS_PER_USER: "3", MAX_OPEN_UPLOAD_BYTES_PER_USER: "1000000" };
    const all = await Promise.all(Array.from({ length: 40 }, () => createWithLimits(greedy, 100, limits)));
    const created = all.filter((r) => r.status === 201);
    const refused = all.filter((r) => r.status === 403);
    expect(created).toHaveLength(3);
    expect(refused).toHaveLength(37);
    expect(await refused[0].text()).toMatch(/3 unfinished uploads.*finish or delete/);
    // Another user is not affected.
    expect((await createWithLimits(await tokenFor("modest"), 100, limits)).status).toBe(201);

    // Finishing one frees its place; deleting one does too.
    const [first, second] = created.map((r) => r.headers.get("Location")!);
    expect((await patch(greedy, first, 0, randomBytes(100))).status).toBe(204);
    expect((await createWithLimits(greedy, 100, limits)).status).toBe(201);
    expect((await createWithLimits(greedy, 100, limits)).status).toBe(403);
    expect((await SELF.fetch(second, { method: "DELETE", headers: tus(greedy) })).status).toBe(204);
    expect((await createWithLimits(greedy, 100, limits)).status).toBe(201);
  });

  it("caps the bytes declared together; a deferred length counts as the largest upload", async () => {
    const hoarder = await tokenFor("hoarder");
    const limits = { MAX_OPEN_UPLOADS_PER_USER: "10", MAX_OPEN_UPLOAD_BYTES_PER_USER: "1000", MAX_UPLOAD_BYTES: "800" };
    expect((await createWithLimits(hoarder, 600, limits)).status).toBe(201);
    const over = await createWithLimits(hoarder, 500, limits);
    expect(over.status).toBe(403);
    expect(await over.text()).toMatch(/finish or delete/);
    expect((await createWithLimits(hoarder, 400, limits)).status).toBe(201);
    // 1000 declared: a deferred upload (counted as 800) does not fit, and neither does 1 byte more.
    expect((await createWithLimits(hoarder, "defer", limits)).status).toBe(403);
    expect((await createWithLimits(hoarder, 1, limits)).status).toBe(403);
  });

  it("expired uploads free the quota", async () => {
    const forgetful = await tokenFor("forgetful");
    const limits = { MAX_OPEN_UPLOADS_PER_USER: "1", MAX_OPEN_UPLOAD_BYTES_PER_USER: "1000000" };
    const first = await createWithLimits(forgetful, 100, limits);
    expect(first.status).toBe(201);
    expect((await createWithLimits(forgetful, 100, limits)).status).toBe(403);
    const id = first.headers.get("Location")!.split("/").pop()!;
    await markUploadExpired(env.DB, id, Date.now());
    expect((await createWithLimits(forgetful, 100, limits)).status).toBe(201);
  });

  it("records the bytes an unfinished upload holds in its row", async () => {
    const { url, id } = await createUpload(alice, 5000);
    expect(await findVideo(env.DB, id)).toMatchObject({ receivedBytes: 0 });
    await patch(alice, url, 0, randomBytes(1200));
    // The Durable Object writes it in the background.
    await vi.waitFor(async () => expect(await findVideo(env.DB, id)).toMatchObject({ receivedBytes: 1200 }));
    // A deferred length, once declared, is what the quota counts.
    const deferred = await createUpload(alice, "defer");
    await patch(alice, deferred.url, 0, randomBytes(10), { "Upload-Length": "3000" });
    await vi.waitFor(async () => expect(await findVideo(env.DB, deferred.id)).toMatchObject({ receivedBytes: 10, sourceBytes: 3000 }));
  });
});

describe("termination (DELETE)", () => {
  it("removes the upload and its video; other users get 404", async () => {
    const { url, id } = await createUpload(alice, 20 * MiB);
    await patch(alice, url, 0, randomBytes(9 * MiB));
    const del = (token: string) => SELF.fetch(url, { method: "DELETE", headers: tus(token) });
    expect((await del(bob)).status).toBe(404);
    const res = await del(alice);
    expect(res.status).toBe(204);
    expect(res.headers.get("Tus-Resumable")).toBe("1.0.0");
    expect((await head(alice, url)).status).toBe(404);
    expect(await findVideo(env.DB, id)).toBeUndefined();
  });
});

describe("routes outside tus", () => {
  it("answers JSON errors with a code and a sentence", async () => {
    const res = await SELF.fetch(`${BASE}/api/nothing-here`, { headers: { Authorization: `Bearer ${alice}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found", message: expect.any(String) });
  });
});
