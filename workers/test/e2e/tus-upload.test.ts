/**
 * End to end: the real local stack (wrangler dev → workerd, local R2/D1/DO/Queues) and the real
 * tus-js-client in Node, talking through a loopback link that we cut in the middle of a chunk.
 * tus-js-client notices, asks the server for its offset (HEAD) and resumes; the object in R2 must
 * come out byte for byte. The link runs at 4 MiB/s, faster than a creator's 9–12 Mbit/s but slow
 * enough that the Worker keeps up: bytes still queued between the Worker and its Durable Object when
 * a connection dies are lost with it, and the client sends them again.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useTestStack } from "./fixture.ts";
import { openFlakyLink, type FlakyLink } from "../../dev/flaky-link.ts";
import { tusUpload } from "../../dev/tus-client.ts";

const MiB = 1024 * 1024;
const e2e = useTestStack({ user: { id: "alice" } });

interface DropReport {
  id: string;
  /** Bytes that had crossed the link towards the server when it was cut. */
  upAtDrop: number;
  /** What the server reported keeping, right after the cut. */
  offsetAfterDrop: number;
  /** Everything that crossed the link, minus the file itself: re-sent bytes plus request headers. */
  overhead: number;
}

/** Uploads `file` through a link that is cut once after `dropAfter` bytes; tus-js-client resumes by itself. */
async function uploadThroughDrop(file: Buffer, opts: { chunkSize: number; dropAfter: number; checksum: boolean }): Promise<DropReport> {
  const link: FlakyLink = await openFlakyLink(
    { host: "127.0.0.1", port: Number(new URL(e2e.stack.baseUrl).port) },
    { upBytesPerSec: 4 * MiB },
  );
  try {
    let url = "";
    let drop: { upAtDrop: number; offsetAfterDrop: number } | null = null;
    const watcher = setInterval(async () => {
      if (drop || !url || link.bytesUp() < opts.dropAfter) return;
      drop = { upAtDrop: link.bytesUp(), offsetAfterDrop: -1 };
      link.dropAll();
      // The server notices the broken body and stores what it had read within a moment.
      await new Promise((r) => setTimeout(r, 300));
      const res = await fetch(url, { method: "HEAD", headers: { Authorization: `Bearer ${e2e.token}`, "Tus-Resumable": "1.0.0" } });
      drop.offsetAfterDrop = Number(res.headers.get("Upload-Offset"));
    }, 5);
    const directPort = new URL(e2e.stack.baseUrl).port;
    await tusUpload({
      endpoint: `http://127.0.0.1:${link.port}/api/video/uploads`,
      token: e2e.token,
      file,
      chunkSize: opts.chunkSize,
      checksum: opts.checksum,
      filename: "trip.mp4",
      onUrl: (u) => (url = u.replace(`:${link.port}/`, `:${directPort}/`)),
    });
    clearInterval(watcher);
    expect(drop, "the link was cut during the upload").not.toBeNull();
    const d = drop as unknown as { upAtDrop: number; offsetAfterDrop: number };
    return { id: url.split("/").pop()!, ...d, overhead: link.bytesUp() - file.length };
  } finally {
    await link.close();
  }
}

const digest = (file: Buffer) => ({ size: file.length, sha256: createHash("sha256").update(file).digest("hex") });

async function video(id: string) {
  const res = await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${e2e.token}` } });
  return (await res.json()) as { status: string; sourceBytes: number };
}

describe("tus-js-client through a link cut mid-chunk", () => {
  it("keeps what arrived of a plain chunk, so almost nothing is sent twice; byte-exact in R2", async () => {
    const file = randomBytes(18 * MiB + 99);
    const report = await uploadThroughDrop(file, { chunkSize: 50 * MiB, dropAfter: 11 * MiB, checksum: false });
    console.log(
      `plain chunk: cut at ${report.upAtDrop} bytes up, server kept ${report.offsetAfterDrop}, link carried ${report.overhead} bytes beyond the file`,
    );
    expect(report.offsetAfterDrop).toBeGreaterThan(10 * MiB);
    // Re-sent bytes plus a few requests' headers: far below a part (8 MiB) or a chunk.
    expect(report.overhead).toBeLessThan(1 * MiB);
    expect(e2e.stack.r2Object(`sources/${report.id}`)).toEqual(digest(file));
    expect(await video(report.id)).toMatchObject({ status: "QUEUED", sourceBytes: file.length });
  });

  it("discards a checksummed chunk that broke off and resumes from the last verified chunk; byte-exact in R2", async () => {
    const file = randomBytes(21 * MiB + 4321);
    const chunkSize = 6 * MiB;
    const report = await uploadThroughDrop(file, { chunkSize, dropAfter: 9 * MiB, checksum: true });
    console.log(
      `checksummed chunks: cut at ${report.upAtDrop} bytes up, server kept ${report.offsetAfterDrop}, link carried ${report.overhead} bytes beyond the file`,
    );
    // An unverifiable chunk is never appended: the server kept whole chunks only.
    expect(report.offsetAfterDrop % chunkSize).toBe(0);
    expect(report.overhead).toBeGreaterThanOrEqual(report.upAtDrop - report.offsetAfterDrop - 64 * 1024);
    expect(e2e.stack.r2Object(`sources/${report.id}`)).toEqual(digest(file));
    expect(await video(report.id)).toMatchObject({ status: "QUEUED", sourceBytes: file.length });
  });
});
