import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Media, r2Media } from "../src/storage/media.ts";
import { memoryMedia } from "../src/storage/memory-media.ts";
import { MiB } from "../src/tus/part-layout.ts";
import { digestOf, randomBytes, sha256Hex } from "./helpers.ts";

/**
 * One contract for the Media port, run against the in-memory twin and against the R2 binding the
 * runtime gives the tests. The twin is only trusted as far as this suite goes.
 */
function mediaContract(name: string, makeMedia: () => Media) {
  describe(`Media contract: ${name}`, () => {
    // Each test gets its own prefix: the R2 binding's storage is shared by the tests of this file.
    const scope = () => `contract/${crypto.randomUUID()}/`;
    const text = async (body: ReadableStream<Uint8Array> | undefined) => new Response(body).text();

    it("puts bytes, a string or a stream with a known length, and reads them back with their facts", async () => {
      const media = makeMedia();
      const at = scope();
      await media.put(`${at}a`, new TextEncoder().encode("alpha"), { contentType: "video/mp4" });
      await media.put(`${at}b`, "beta");
      const { readable, writable } = new FixedLengthStream(5);
      const writer = writable.getWriter();
      void writer.write(new TextEncoder().encode("gamma")).then(() => writer.close());
      await media.put(`${at}c`, readable);

      const a = await media.get(`${at}a`);
      expect(a).toMatchObject({ key: `${at}a`, size: 5, contentType: "video/mp4", range: null });
      expect(a?.httpEtag).toMatch(/^".+"$/);
      expect(await text(a?.body)).toBe("alpha");
      expect(await text((await media.get(`${at}b`))?.body)).toBe("beta");
      expect(await text((await media.get(`${at}c`))?.body)).toBe("gamma");
      expect(await media.head(`${at}a`)).toMatchObject({ key: `${at}a`, size: 5, contentType: "video/mp4", httpEtag: a?.httpEtag });
    });

    it("answers null for a key that is not there", async () => {
      const media = makeMedia();
      expect(await media.get(`${scope()}missing`)).toBeNull();
      expect(await media.head(`${scope()}missing`)).toBeNull();
    });

    it("reads a range: the body holds the range, size stays the whole object's", async () => {
      const media = makeMedia();
      const key = `${scope()}ranged`;
      await media.put(key, "0123456789");
      const middle = await media.get(key, { offset: 2, length: 5 });
      expect(middle).toMatchObject({ size: 10, range: { offset: 2, length: 5 } });
      expect(await text(middle?.body)).toBe("23456");
      const rest = await media.get(key, { offset: 7 });
      expect(await text(rest?.body)).toBe("789");
    });

    it("lists by prefix in key order, page by page, and deletes many keys at once", async () => {
      const media = makeMedia();
      const at = scope();
      const keys = ["e", "a", "c", "b", "d"].map((k) => `${at}in/${k}`);
      for (const key of keys) await media.put(key, "x");
      await media.put(`${at}out`, "x");

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await media.list(`${at}in/`, { cursor, limit: 2 });
        expect(page.keys.length).toBeLessThanOrEqual(2);
        seen.push(...page.keys);
        cursor = page.cursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual([...keys].sort());

      await media.delete([...keys, `${at}never-there`]);
      expect((await media.list(`${at}in/`)).keys).toEqual([]);
      expect((await media.list(at)).keys).toEqual([`${at}out`]);
    });

    it("assembles a multipart upload in part order, resumed by its id, with its metadata", async () => {
      const media = makeMedia();
      const key = `${scope()}multi`;
      const first = randomBytes(5 * MiB, 1);
      const second = randomBytes(5 * MiB, 2);
      const last = randomBytes(1000, 3);
      const created = await media.createMultipart(key, { customMetadata: { videoId: "v1" } });
      const p2 = await created.uploadPart(2, second);
      // Another request (another instance of the port) goes on with the same upload.
      const resumed = media.resumeMultipart(key, created.uploadId);
      const p1 = await resumed.uploadPart(1, first);
      const p3 = await resumed.uploadPart(3, last);
      expect(await media.head(key)).toBeNull();
      const done = await resumed.complete([p1, p2, p3]);
      expect(done).toMatchObject({ key, size: first.length + second.length + last.length, customMetadata: { videoId: "v1" } });

      const whole = new Uint8Array(done.size);
      whole.set(first);
      whole.set(second, first.length);
      whole.set(last, first.length + second.length);
      const stored = await media.get(key);
      expect({ size: stored?.size, sha256: await sha256Hex(await new Response(stored?.body).arrayBuffer()) }).toEqual(
        await digestOf(whole),
      );
      // Completed once: a second complete is refused, the object stays.
      await expect(resumed.complete([p1, p2, p3])).rejects.toThrow();
      expect(await media.head(key)).toMatchObject({ size: whole.length });
    });

    it("takes a single part of any size", async () => {
      const media = makeMedia();
      const key = `${scope()}single`;
      const upload = await media.createMultipart(key);
      const part = await upload.uploadPart(1, new TextEncoder().encode("tiny"));
      await upload.complete([part]);
      expect(await text((await media.get(key))?.body)).toBe("tiny");
    });

    it("refuses parts of unequal size: every part but the last has the same size, the last is not larger", async () => {
      const media = makeMedia();
      const at = scope();
      const refused = async (sizes: number[]) => {
        const upload = await media.createMultipart(`${at}${sizes.join("-")}`);
        const parts = [];
        for (const [i, size] of sizes.entries()) parts.push(await upload.uploadPart(i + 1, randomBytes(size, i + 1)));
        await expect(upload.complete(parts)).rejects.toThrow();
        await upload.abort();
      };
      await refused([5 * MiB, 6 * MiB, 10]);
      await refused([6 * MiB, 5 * MiB, 10]);
      await refused([5 * MiB, 5 * MiB + 1]);
      // Below R2's 5 MiB for a part that is not the last.
      await refused([MiB, MiB, 10]);
    });

    it("refuses a part named with another ETag", async () => {
      const media = makeMedia();
      const upload = await media.createMultipart(`${scope()}etag`);
      const part = await upload.uploadPart(1, randomBytes(10));
      await expect(upload.complete([{ partNumber: 1, etag: `${part.etag}x` }])).rejects.toThrow();
    });

    it("aborts: the upload takes no more parts and completes no more, and nothing is stored", async () => {
      const media = makeMedia();
      const key = `${scope()}aborted`;
      const upload = await media.createMultipart(key);
      const part = await upload.uploadPart(1, randomBytes(10));
      await upload.abort();
      // Aborting twice is harmless (a retried termination).
      await media.resumeMultipart(key, upload.uploadId).abort();
      await expect(upload.uploadPart(2, randomBytes(10))).rejects.toThrow();
      await expect(media.resumeMultipart(key, upload.uploadId).complete([part])).rejects.toThrow();
      expect(await media.head(key)).toBeNull();
    });
  });
}

mediaContract("in-memory twin", memoryMedia);
mediaContract("R2 binding", () => r2Media(env.MEDIA));
