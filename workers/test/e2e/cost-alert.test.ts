/**
 * End to end: a spend spike between two days is POSTed once to a real webhook (a local HTTP
 * server), by the daily cron of the real local stack, however often the cron runs.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { d1Query, freePort, startTestStack, type TestStack } from "./fixture.ts";

let stack: TestStack;
let hook: Server;
const received: unknown[] = [];

beforeAll(async () => {
  const port = await freePort();
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.end("ok");
    });
  });
  await new Promise<void>((r) => hook.listen(port, "127.0.0.1", r));
  stack = await startTestStack({ vars: { ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/hook` } });
});
afterAll(async () => {
  await stack?.close();
  hook?.close();
});

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe("spike alert", () => {
  it("reaches the webhook once when yesterday cost more than 50 % above the day before", async () => {
    d1Query(
      stack.persistTo,
      `INSERT INTO usage (day, video_id, kind, quantity) VALUES ('${day(-2)}', '', 'workers_requests', 1000000), ('${day(-1)}', '', 'workers_requests', 2000000)`,
    );
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${stack.baseUrl}/__scheduled?cron=10+0+*+*+*`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      kind: "daily_spike",
      day: day(-1),
      usd: expect.closeTo(0.6, 6),
      previousUsd: expect.closeTo(0.3, 6),
    });
    const alerts = d1Query<{ delivered: number }>(stack.persistTo, `SELECT delivered FROM cost_alerts WHERE kind = 'daily_spike'`);
    expect(alerts).toEqual([{ delivered: 1 }]);
  });
});
