/** Upload rows: tus vs a plain Worker→R2 put on loopback; goodput through a flaky 10 Mbit/s link. */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { ROOT, startWrangler, type RunningStack } from "../stack.ts";
import { openFlakyLink } from "../flaky-link.ts";
import { tusUpload } from "../tus-client.ts";
import { freePort } from "../../test/e2e/fixture.ts";
import { mbps, timed, type Row } from "./table.ts";

const MiB = 1024 * 1024;

export async function tusVersusPlainPut(stack: RunningStack, token: string, state: string): Promise<Row> {
  const file = randomBytes(96 * MiB);
  const plain = await startWrangler({ port: await freePort(), persistTo: join(state, "plain"), config: join(ROOT, "workers/dev/bench/plain-put.wrangler.toml") });
  try {
    const [, putMs] = await timed(async () => {
      const res = await fetch(`${plain.baseUrl}/bench-object`, { method: "PUT", body: file });
      if (!res.ok) throw new Error(`plain put failed: ${res.status}`);
    });
    const [, tusMs] = await timed(() => tusUpload({ endpoint: `${stack.baseUrl}/api/video/uploads`, token, file, chunkSize: 50 * MiB }));
    return {
      metric: "upload throughput, 96 MiB on loopback",
      ours: `${mbps(file.length, tusMs)} (tus-js-client, 50 MiB chunks)`,
      baseline: `${mbps(file.length, putMs)} (plain Worker→R2 put)`,
      note: `ratio ${(putMs / tusMs).toFixed(2)} (target ≥ 0.8)`,
    };
  } finally {
    await plain.stop();
  }
}

export async function flakyLinkGoodput(stack: RunningStack, token: string): Promise<Row> {
  const file = randomBytes(48 * MiB);
  const link = await openFlakyLink({ host: "127.0.0.1", port: Number(new URL(stack.baseUrl).port) }, { upBytesPerSec: 10e6 / 8 });
  let drops = 0;
  const timer = setInterval(() => {
    drops++;
    link.dropAll();
  }, 20_000);
  try {
    const [, ms] = await timed(() =>
      tusUpload({ endpoint: `http://127.0.0.1:${link.port}/api/video/uploads`, token, file, chunkSize: 50 * MiB, retryDelays: [0, 500, 1000, 2000] }),
    );
    const extra = link.bytesUp() - file.length;
    return {
      metric: "goodput through 10 Mbit/s, cut every 20 s",
      ours: `${mbps(file.length, ms)}, ${drops} drops, ${Math.round(extra / Math.max(drops, 1) / 1024)} KiB re-sent + headers per drop`,
      baseline: "10.0 Mbit/s link",
      note: "48 MiB file",
    };
  } finally {
    clearInterval(timer);
    await link.close();
  }
}
