/**
 * End to end, in a real Chromium against the real local stack: after players have reported
 * playback of a video (beacons sent the way a player sends them), its owner sees its views and
 * watch time on My videos, and the admin sees the playback quality section with its chart, on a
 * phone, in English and in Arabic (right to left). No transcoder: a READY row in D1 is the video.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "playwright-core";
import { join } from "node:path";
import { ARTIFACTS, PHONE, launchBrowser, newPage, screenshot, signIn } from "./browser.ts";
import { d1Query, startTestStack, type TestStack } from "./fixture.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib.
declare const document: any;

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

function insertVideo(owner: string, title: string): string {
  const id = crypto.randomUUID();
  const now = Date.now();
  d1Query(
    stack.persistTo,
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at)
     VALUES ('${id}', '${owner}', '${title}', 't.mp4', 'video/mp4', 'READY', 1, 'public', 1, 1, ${now + 1e9}, ${now}, ${now})`,
  );
  return id;
}

/** A beacon as a signed-out viewer's player sends it (`sendBeacon`: text/plain JSON, no token). */
async function beacon(body: Record<string, unknown>): Promise<number> {
  const res = await fetch(`${stack.baseUrl}/api/playback-events`, {
    method: "POST",
    headers: { "Content-Type": "text/plain;charset=UTF-8" },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

describe("views and playback quality in the web app", () => {
  it("shows the owner her video's views and watch time, and the admin the QoE section with its chart", async () => {
    const id = insertVideo("alice", "Nile at dusk");
    const unwatched = insertVideo("alice", "Not yet seen");
    // Two viewers: one watches 90 s on 240p with a 2 s stall, one 45 s on 480p. Each beacon is sent
    // twice (a retry): it counts once.
    const sessions = [
      { sessionId: crypto.randomUUID(), tier: "240p", startupMs: 600, watchedMs: 90_000, rebufferMs: 2000 },
      { sessionId: crypto.randomUUID(), tier: "480p", startupMs: 700, watchedMs: 45_000, rebufferMs: 0 },
    ];
    for (const s of sessions) {
      const events = [
        { videoId: id, sessionId: s.sessionId, type: "start", startupMs: s.startupMs, tier: s.tier },
        {
          videoId: id,
          sessionId: s.sessionId,
          type: "heartbeat",
          watchedMs: s.watchedMs,
          rebufferCount: s.rebufferMs ? 1 : 0,
          rebufferMs: s.rebufferMs,
          tier: s.tier,
        },
        { videoId: id, sessionId: s.sessionId, type: "end", watchedMs: s.watchedMs, rebufferMs: s.rebufferMs },
      ];
      for (const e of events) {
        expect(await beacon(e)).toBe(204);
        expect(await beacon(e)).toBe(204);
      }
    }

    // The owner, on a phone: My videos shows 2 views and 2 min (135 s) on the card, 0 on the other.
    const owner = await newPage(browser, stack.baseUrl, PHONE);
    await signIn(owner.page, "alice");
    await owner.page.getByRole("link", { name: "My videos" }).click();
    const card = owner.page.locator(`.video-card[data-video-id="${id}"]`);
    await card.waitFor();
    expect(await card.getByTestId("views").textContent()).toBe("2");
    expect(await card.getByTestId("watch-time").textContent()).toBe("2 min");
    expect(await card.getByTestId("play-stats").textContent()).toContain("Views: 2");
    const other = owner.page.locator(`.video-card[data-video-id="${unwatched}"]`);
    expect(await other.getByTestId("views").textContent()).toBe("0");
    await screenshot(owner.page, "videos-views-phone-en");
    await owner.page.getByTestId("lang").click();
    await card.getByText("المشاهدات").waitFor();
    expect(await card.getByTestId("views").textContent()).toBe("٢");
    expect(await card.getByTestId("watch-time").textContent()).toBe("٢ د");
    await screenshot(owner.page, "videos-views-phone-ar");
    await owner.context.close();

    // The admin, on a phone: the QoE section with its figures, tables and chart.
    const admin = await newPage(browser, stack.baseUrl, PHONE);
    await signIn(admin.page, "root", "admin");
    await admin.page.getByRole("link", { name: "Admin" }).click();
    const qoe = admin.page.getByTestId("qoe");
    await qoe.getByRole("heading", { name: "Playback quality" }).waitFor();
    await qoe.getByTestId("qoe-views").waitFor();
    expect(await qoe.getByTestId("qoe-views").textContent()).toBe("2");
    expect(await qoe.getByTestId("qoe-watch").textContent()).toBe("2 min");
    // Startup histogram buckets: both starts fall in the ≤ 750 ms bucket.
    expect(await qoe.getByTestId("qoe-startup").textContent()).toBe("750 ms / 750 ms");
    // 2 s waiting of 137 s in the player.
    expect(await qoe.getByTestId("qoe-rebuffer").textContent()).toBe("1.5%");
    // The country is the edge's (request.cf.country; the local runtime makes one up), by its name.
    const row = qoe.locator("tr[data-country]");
    expect(await row.count()).toBe(1);
    const code = (await row.getAttribute("data-country"))!;
    const named = (locale: string, unknown: string) =>
      code === "XX" ? unknown : new Intl.DisplayNames([locale], { type: "region" }).of(code)!;
    expect(await row.locator("td").allTextContents()).toEqual([named("en-US", "Unknown"), "2", "750 ms"]);
    expect(await qoe.locator("tr[data-tier]").allTextContents()).toEqual(["240p1 min", "480p45 s"]);
    // uPlot drew the chart: a canvas of real size inside it, one slot per day of the range.
    const chart = qoe.getByTestId("qoe-chart");
    await chart.locator("canvas").waitFor();
    const width = await admin.page.evaluate(() => document.querySelector('[data-testid="qoe-chart"] canvas')?.width ?? 0);
    expect(width).toBeGreaterThan(200);
    await qoe.screenshot({ path: join(ARTIFACTS, "admin-qoe-phone-en.png") });

    // 30 days: the page asks the API for 30 days and draws them.
    const asked = admin.page.waitForRequest((r) => r.url().includes("/api/admin/qoe?days=30"));
    await qoe.getByLabel("Period").selectOption("30");
    await asked;
    await chart.locator("canvas").waitFor();
    expect(await qoe.getByTestId("qoe-views").textContent()).toBe("2");

    // Arabic: right to left, Arabic words and digits.
    await admin.page.getByTestId("lang").click();
    await qoe.getByRole("heading", { name: "جودة التشغيل" }).waitFor();
    expect(await admin.page.evaluate(() => document.documentElement.dir)).toBe("rtl");
    expect(await qoe.getByTestId("qoe-views").textContent()).toBe("٢");
    expect(await row.locator("td").first().textContent()).toBe(named("ar-EG", "غير معروف"));
    await qoe.screenshot({ path: join(ARTIFACTS, "admin-qoe-phone-ar.png") });
    await admin.context.close();
  });
});
