/**
 * End to end: a receiver on loopback registers for the video events, a real clip is uploaded with
 * tus-js-client and transcoded by real ffmpeg, and the receiver gets `video.uploaded` →
 * `video.playable` → `video.ready`, signed so that the `standardwebhooks` package verifies them, in
 * that order. Then the receiver is down (connection refused) while a second video goes through:
 * nothing is lost, the events arrive once it is back, in order, once each by `webhook-id`.
 */
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP, PHONE, launchBrowser, newPage, screenshot, signIn } from "./browser.ts";
import { freePort, useTestStack } from "./fixture.ts";
import { makeLavfiClip } from "../../../transcoder/src/testing/clips.ts";
import { tusUpload } from "../../dev/tus-client.ts";
import type { VideoResponse } from "../../../contract/api.ts";
import type { WebhookDeliveryListResponse, WebhookEndpointCreated, WebhookPayload } from "../../../contract/webhooks.ts";

// Retries after 1 s, 2 s, 8 s, 32 s … instead of 30 s … 12 h.
const e2e = useTestStack({ transcoder: true, user: { id: "root", role: "admin" }, vars: { WEBHOOK_RETRY_BASE_SECONDS: "0.5" } });

interface Received {
  id: string;
  payload: WebhookPayload;
}

/** The social app's receiver: verifies each request with the package, answers 204, remembers it. */
class Receiver {
  readonly received: Received[] = [];
  readonly refusedSignatures: string[] = [];
  secret = "";
  private server: Server | null = null;
  readonly port: number;
  constructor(port: number) {
    this.port = port;
  }

  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        try {
          const payload = new Webhook(this.secret).verify(body, req.headers as Record<string, string>) as WebhookPayload;
          this.received.push({ id: String(req.headers["webhook-id"]), payload });
          res.writeHead(204).end();
        } catch (error) {
          this.refusedSignatures.push(String(error));
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** What arrived about one video, deduplicated by `webhook-id` as a receiver must. */
  eventsOf(videoId: string): string[] {
    const seen = new Set<string>();
    return this.received
      .filter((r) => (r.payload.data as VideoResponse).id === videoId && !seen.has(r.id) && seen.add(r.id))
      .map((r) => r.payload.type);
  }
}

let receiver: Receiver;
let endpointId = "";

beforeAll(async () => {
  receiver = new Receiver(await freePort());
  await receiver.up();
});
afterAll(() => receiver?.down());

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${e2e.stack.baseUrl}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${e2e.token}`, "content-type": "application/json", ...init.headers },
  });

async function waitFor(check: () => Promise<boolean> | boolean, what: () => string, timeoutMs = 150_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}\n${e2e.stack.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function uploadClip(name: string): Promise<string> {
  const file = readFileSync(makeLavfiClip(join(e2e.dir, name), { picture: "testsrc2=size=640x360:rate=30", seconds: 3 }));
  const creator = await e2e.stack.tokenFor("alice");
  const url = await tusUpload({
    endpoint: `${e2e.stack.baseUrl}/api/video/uploads`,
    token: creator,
    file,
    chunkSize: 5 * 1024 * 1024,
    filename: name,
  });
  return url.split("/").pop()!;
}

const status = async (id: string) => ((await (await api(`/api/videos/${id}`)).json()) as VideoResponse).status;
const deliveries = async () =>
  ((await (await api(`/api/admin/webhooks/${endpointId}/deliveries`)).json()) as WebhookDeliveryListResponse).deliveries;

describe("webhooks to a receiver on loopback", () => {
  it("delivers uploaded → playable → ready, signed, in order, with the video in the body", async () => {
    const res = await api("/api/admin/webhooks", {
      method: "POST",
      body: JSON.stringify({ url: `http://127.0.0.1:${receiver.port}/hooks`, events: ["video.uploaded", "video.playable", "video.ready"] }),
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as WebhookEndpointCreated;
    expect(created.secret).toMatch(/^whsec_/);
    receiver.secret = created.secret;
    endpointId = created.id;

    const id = await uploadClip("first.mp4");
    await waitFor(
      () => receiver.eventsOf(id).includes("video.ready"),
      () => `video.ready of ${id}: got ${JSON.stringify(receiver.eventsOf(id))}`,
    );
    expect(receiver.refusedSignatures).toEqual([]);
    expect(receiver.eventsOf(id)).toEqual(["video.uploaded", "video.playable", "video.ready"]);
    const ready = receiver.received.find((r) => r.payload.type === "video.ready")!.payload.data as VideoResponse;
    // The whole video: the receiver needs no second call.
    expect(ready).toMatchObject({ id, ownerId: "alice", status: "READY", playable: true, hlsUrl: `/videos/${id}/index.m3u8` });
    expect(ready.renditions.length).toBeGreaterThan(0);
  });

  it("a receiver that is down loses nothing: the events arrive later, in order, once each by webhook-id", async () => {
    await receiver.down();
    const id = await uploadClip("second.mp4");
    await waitFor(
      async () => (await status(id)) === "READY",
      () => `video ${id} READY`,
    );
    // At least one attempt failed while the receiver was down, and it was logged.
    await waitFor(
      async () => (await deliveries()).some((d) => d.videoId === id && d.type === "video.uploaded" && d.attempts >= 2),
      () => "two failed attempts of video.uploaded",
    );
    expect(receiver.eventsOf(id)).toEqual([]);
    const failed = (await deliveries()).find((d) => d.videoId === id && d.type === "video.uploaded")!;
    expect(failed.status).toBe("pending");
    expect(failed.lastStatus).toBeNull();
    expect(failed.lastError).toMatch(/^The receiver could not be reached/);

    await receiver.up();
    await waitFor(
      () => receiver.eventsOf(id).includes("video.ready"),
      () => `video.ready of ${id} after the receiver came back: got ${JSON.stringify(receiver.eventsOf(id))}`,
      120_000,
    );
    expect(receiver.eventsOf(id)).toEqual(["video.uploaded", "video.playable", "video.ready"]);
    expect(receiver.refusedSignatures).toEqual([]);

    const log = (await deliveries()).filter((d) => d.videoId === id);
    expect(log.map((d) => d.status)).toEqual(["delivered", "delivered", "delivered"]);
    const uploaded = log.find((d) => d.type === "video.uploaded")!;
    expect(uploaded.attemptLog.length).toBe(uploaded.attempts);
    expect(uploaded.attemptLog[0]).toMatchObject({ attempt: 1, statusCode: null, error: expect.stringMatching(/could not be reached/) });
    expect(uploaded.attemptLog.at(-1)).toMatchObject({ statusCode: 204, error: null });
  });

  it("the admin page adds an endpoint (secret shown once), lists deliveries, resends one and deletes the endpoint", async () => {
    const browser = await launchBrowser();
    try {
      const { page } = await newPage(browser, e2e.stack.baseUrl, DESKTOP);
      await signIn(page, "root", "admin");
      await page.getByRole("link", { name: "Admin" }).click();
      const section = page.getByTestId("webhooks");
      const existing = section.locator(`li[data-endpoint-id="${endpointId}"]`);
      await existing.waitFor();

      // Its deliveries, newest first, every one delivered; a resend queues it again.
      await existing.getByRole("button", { name: "Deliveries" }).click();
      const rows = existing.locator("tr[data-delivery-id]");
      await rows.first().waitFor();
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-status")))).toEqual(Array(6).fill("delivered"));
      await screenshot(page, "admin-webhooks-desktop-en");
      const before = receiver.received.length;
      await rows.first().getByRole("button", { name: "Resend" }).click();
      await section.getByText("The delivery is queued again.").waitFor();
      await waitFor(
        () => receiver.received.length > before,
        () => "the resent delivery",
      );

      // A private address is refused with the server's sentence; a loopback one (local dev) is added.
      await section.getByLabel("Endpoint URL (https)").fill("https://10.1.2.3/hooks");
      await section.getByRole("button", { name: "Add endpoint" }).click();
      await section.getByText("10.1.2.3 is a private or reserved address; webhooks are delivered to public https URLs only.").waitFor();
      await section.getByLabel("Endpoint URL (https)").fill(`http://127.0.0.1:${receiver.port}/second`);
      await section.getByRole("button", { name: "Add endpoint" }).click();
      const secret = (await section.getByTestId("webhook-secret").locator("code").textContent()) ?? "";
      expect(secret).toMatch(/^whsec_/);
      const added = section.locator("li[data-endpoint-id]").filter({ hasText: "/second" });
      await added.waitFor();
      await page.setViewportSize(PHONE);
      await page.getByTestId("lang").click();
      await screenshot(page, "admin-webhooks-phone-ar");
      await page.getByTestId("lang").click();

      // Deleted (the confirm is accepted): gone from the page and from the API.
      await added.getByRole("button", { name: "Delete" }).click();
      await added.waitFor({ state: "detached" });
      const list = (await (await api("/api/admin/webhooks")).json()) as { endpoints: { url: string }[] };
      expect(list.endpoints.map((e) => e.url)).toEqual([`http://127.0.0.1:${receiver.port}/hooks`]);
    } finally {
      await browser.close();
    }
  });
});
