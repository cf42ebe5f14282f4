/**
 * Fault: the runtime (workerd, with every Durable Object) stops in the middle of an upload and
 * comes back on the same state. tus-js-client keeps retrying; once the server answers again it asks
 * for the offset and resumes; the object in R2 comes out byte for byte.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useTestStack } from "./fixture.ts";
import { openFlakyLink } from "../../dev/flaky-link.ts";
import { tusUpload } from "../../dev/tus-client.ts";

const MiB = 1024 * 1024;
const e2e = useTestStack({ user: { id: "alice" } });

describe("runtime restarted mid-upload", () => {
  it("resumes after the restart and completes byte-exact", async () => {
    const file = randomBytes(20 * MiB + 777);
    const port = Number(new URL(e2e.stack.baseUrl).port);
    const link = await openFlakyLink({ host: "127.0.0.1", port }, { upBytesPerSec: 4 * MiB });
    let restarted: Promise<void> | null = null;
    const watcher = setInterval(() => {
      if (!restarted && link.bytesUp() > 9 * MiB) restarted = e2e.stack.restartRuntime();
    }, 10);
    try {
      const url = await tusUpload({
        endpoint: `http://127.0.0.1:${link.port}/api/video/uploads`,
        token: e2e.token,
        file,
        chunkSize: 50 * MiB,
        // Long enough to outlast a restart of wrangler dev.
        retryDelays: [1000, 2000, 3000, 5000, 5000, 5000, 8000, 8000, 8000, 8000],
      });
      await restarted;
      expect(restarted, "the runtime was restarted during the upload").not.toBeNull();
      const id = url.split("/").pop()!;
      expect(e2e.stack.r2Object(`sources/${id}`)).toEqual({ size: file.length, sha256: createHash("sha256").update(file).digest("hex") });
      const video = (await (
        await fetch(`${e2e.stack.baseUrl}/api/videos/${id}`, { headers: { Authorization: `Bearer ${e2e.token}` } })
      ).json()) as { status: string };
      expect(video.status).toBe("QUEUED");
    } finally {
      clearInterval(watcher);
      await link.close();
    }
  });
});
