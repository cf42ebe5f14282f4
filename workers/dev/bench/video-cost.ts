/**
 * The metered cost of one video: upload, transcode, storage for a month, played once — from the
 * usage the local stack metered for it (D1 `usage`), priced with the product's own price table,
 * next to Cloudflare Stream's list price for the same minutes.
 */
import { d1Query } from "../../test/e2e/fixture.ts";
import { priceBreakdown, usdOf, type UsageKind } from "../../src/costs/model.ts";
import { DEFAULT_PRICES } from "../../src/costs/prices.ts";
import type { Row } from "./table.ts";

export async function videoCostRow(baseUrl: string, persistTo: string, videoId: string, durationSec: number): Promise<Row> {
  // Play it once: the master, the top tier's playlist and every one of its segments, and the poster.
  const get = async (path: string) => (await fetch(`${baseUrl}/videos/${videoId}/${path}`)).arrayBuffer();
  await get("index.m3u8");
  await get("poster.jpg");
  const playlist = new TextDecoder().decode(await get("720p/index.m3u8"));
  for (const name of playlist.split("\n").filter((l) => l.endsWith(".ts"))) await get(`720p/${name}`);

  // The admin costs page rolls today up, which also flushes the request counters.
  const login = await fetch(`${baseUrl}/api/auth/dev-login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId: "bench-admin", role: "admin" }),
  });
  const { token } = (await login.json()) as { token: string };
  await (await fetch(`${baseUrl}/api/admin/costs`, { headers: { Authorization: `Bearer ${token}` } })).arrayBuffer();

  const usage = d1Query<{ kind: UsageKind; quantity: number }>(
    persistTo,
    `SELECT kind, sum(quantity) AS quantity FROM usage WHERE video_id = '${videoId}' AND kind != 'r2_storage_gb_month' GROUP BY kind`,
  );
  const [{ output_bytes }] = d1Query<{ output_bytes: number }>(persistTo, `SELECT output_bytes FROM videos WHERE id = '${videoId}'`);
  const quantities = Object.fromEntries(usage.map((u) => [u.kind, u.quantity])) as Partial<Record<UsageKind, number>>;
  const { usd: operations, breakdown } = priceBreakdown(quantities, DEFAULT_PRICES);
  const storageMonth = usdOf("r2_storage_gb_month", output_bytes / 1e9, DEFAULT_PRICES);
  const total = operations + storageMonth;
  const minutes = durationSec / 60;
  const stream = minutes * (5 / 1000) + minutes * (1 / 1000);
  const biggest = Object.entries(breakdown).sort((a, b) => b[1] - a[1])[0];
  return {
    metric: `cost of one ${Math.round(durationSec)} s 720p video, stored a month, played once`,
    ours: `$${total.toFixed(5)} (ops+compute $${operations.toFixed(5)}, largest ${biggest?.[0]}; ${(output_bytes / 1e6).toFixed(1)} MB stored $${storageMonth.toFixed(5)})`,
    baseline: `$${stream.toFixed(5)} Cloudflare Stream ($5/1000 min stored + $1/1000 min delivered)`,
    note: `ratio ${(total / stream).toFixed(2)}`,
  };
}
