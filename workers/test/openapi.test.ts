import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ZodType } from "zod";
import { app } from "../src/app.ts";
import { BASE, usualUsers } from "./helpers.ts";
import { SCOPES } from "../../contract/scopes.ts";

/**
 * GET /api/openapi.json against the app itself: the document is OpenAPI 3.1 whose references all
 * resolve; every documented operation is served and every public route is documented; and every
 * documented JSON operation answers one good request as documented (its body checked with the
 * route's own response schema) and one bad request with `{error, message}`.
 */
const { alice, admin } = await usualUsers();

type Operation = { responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: { content: Record<string, unknown> } };
type Doc = {
  openapi: string;
  info: unknown;
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
};

const doc = (await (await SELF.fetch(`${BASE}/api/openapi.json`, { headers: { Authorization: `Bearer ${alice}` } })).json()) as Doc;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => METHODS.includes(method))
    .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, method, path, op })),
);

/** The transcoder's routes: served by the app, deliberately not part of the public API. */
const INTERNAL = /^\/internal\//;
/** A READY, public, playable video of alice's with a master playlist and a poster in R2. */
async function readyVideo(status = "READY"): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, renditions,
       source_bytes, source_sha256, error, upload_expires_at, created_at, updated_at)
     VALUES (?, 'alice', 'Documented', 't.mp4', 'video/mp4', ?, 1, 'public', 1, 1, ?, 1234, 'abc', NULL, ?, ?, ?)`,
  )
    .bind(
      id,
      status,
      JSON.stringify([{ name: "240p", width: 426, height: 240, videoBitrate: 300_000, bandwidth: 400_000 }]),
      now + 1e9,
      now,
      now,
    )
    .run();
  await env.MEDIA.put(`videos/${id}/r1/index.m3u8`, "#EXTM3U\n");
  await env.MEDIA.put(`videos/${id}/r1/poster.jpg`, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
  return id;
}

const call = (token: string | null, method: string, path: string, body?: unknown) =>
  SELF.fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 with paths and components, and every $ref resolves", () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toBeTypeOf("object");
    expect(Object.keys(doc.paths).length).toBeGreaterThan(20);
    expect(Object.keys(doc.components.schemas ?? {})).toEqual(expect.arrayContaining(["Error", "Video", "ViewerCard"]));
    expect(Object.keys(doc.components.securitySchemes ?? {}).sort()).toEqual(["apiKey", "bearerJwt"]);
    const refs: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [k, v] of Object.entries(node)) k === "$ref" ? refs.push(String(v)) : walk(v);
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    const unresolved = refs.filter((ref) => {
      if (!ref.startsWith("#/")) return true;
      let at: unknown = doc;
      for (const part of ref.slice(2).split("/"))
        at = (at as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
      return at === undefined;
    });
    expect(unresolved).toEqual([]);
    for (const { key, op } of operations) expect(Object.keys(op.responses ?? {}).length, key).toBeGreaterThan(0);
  });

  it("documents every public route of the app (internal ones excepted), and nothing the app does not serve", async () => {
    const documented = new Set(operations.map((o) => o.key));
    const appRoutes = new Set<string>();
    for (const { method, path } of app.routes) {
      if (method === "ALL" || INTERNAL.test(path)) continue;
      appRoutes.add(`${method} ${path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`);
    }
    const undocumented = [...appRoutes].filter((route) => {
      const [method, path] = route.split(" ") as [string, string];
      // Hono serves HEAD with the GET handler: tus's HEAD is documented as HEAD.
      const methods = method === "GET" ? ["GET", "HEAD"] : [method];
      if (path.endsWith("*")) {
        const prefix = path.slice(0, -1);
        return !operations.some((o) => methods.includes(o.method.toUpperCase()) && o.path.startsWith(prefix));
      }
      return !methods.some((m) => documented.has(`${m} ${path}`));
    });
    // A failure here lists the routes to document (createRoute, or a description in routes/openapi.ts).
    expect(undocumented).toEqual([]);

    // Every documented operation is served: none is answered by the app's "No route" 404.
    const id = await readyVideo();
    const missing: string[] = [];
    for (const { key, method, path } of operations) {
      const url = path.replace("{id}", id).replace("{token}", "t0k3n").replace("{file}", "240p/index.m3u8");
      // HEAD has no body to read the answer from: its GET twin is the same route.
      const res = await call(admin, method === "head" ? "GET" : method.toUpperCase(), url);
      const text = await res.text();
      if (res.status === 404 && text.includes("No route for")) missing.push(key);
    }
    expect(missing).toEqual([]);
  });
});

describe("who may call what", () => {
  it("an API key reaches exactly the operations whose x-required-scope it holds, and the document itself", async () => {
    const created = await call(admin, "POST", "/api/admin/api-keys", { name: "every scope", scopes: [...SCOPES] });
    const key = ((await created.json()) as { key: string }).key;
    const id = await readyVideo();
    const wrong: string[] = [];
    for (const { key: name, method, path, op } of operations) {
      // The dev login takes no credentials; tus takes a user's or a direct link's.
      if (!path.startsWith("/api/") || path.startsWith("/api/video/uploads") || path === "/api/auth/dev-login") continue;
      const res = await call(key, method.toUpperCase(), path.replace("{id}", id));
      const scope = (op as { "x-required-scope"?: string })["x-required-scope"];
      const open = scope !== undefined || path === "/api/openapi.json";
      if ((res.status === 403) === open) wrong.push(`${name}: ${res.status} (x-required-scope ${scope ?? "none"})`);
      await res.body?.cancel();
    }
    expect(wrong).toEqual([]);
  });
});

type Case = { token?: string | null; path?: string; body?: unknown; expect?: number };
type Fixture = { id: string; other: string; queued: string; keyId: string; hooks: [string, string] };
/** One good and one bad request for each documented JSON operation. */
const CASES: Record<string, (f: Fixture) => { good: Case; bad: Case }> = {
  "GET /api/videos": () => ({ good: { token: alice }, bad: { path: "/api/videos?limit=0" } }),
  "GET /api/videos/{id}": () => ({ good: { token: null }, bad: { path: "/api/videos/not-a-video" } }),
  "PATCH /api/videos/{id}": () => ({
    good: { token: alice, body: { title: "Renamed" } },
    bad: { token: alice, body: { visibility: "unlisted" } },
  }),
  "DELETE /api/videos/{id}": ({ other }) => ({
    good: { token: alice, path: `/api/videos/${other}` },
    bad: { token: alice, path: "/api/videos/nope" },
  }),
  "DELETE /api/videos/{id}/share": () => ({ good: { token: alice }, bad: { token: alice, path: "/api/videos/nope/share" } }),
  "GET /api/videos/{id}/playback": () => ({ good: { token: null }, bad: { path: "/api/videos/nope/playback" } }),
  "POST /api/videos/{id}/share": () => ({
    good: { token: alice, body: { expiresInSec: 600 } },
    bad: { token: alice, body: { expiresInSec: "soon" } },
  }),
  "POST /api/videos/{id}/cancel": ({ queued }) => ({
    good: { token: alice, path: `/api/videos/${queued}/cancel` },
    bad: { token: alice, path: "/api/videos/nope/cancel" },
  }),
  // A READY video is neither waiting nor failed: the documented 409, with its sentence.
  "POST /api/videos/{id}/priority": () => ({ good: { expect: 409 }, bad: { token: alice } }),
  "POST /api/videos/{id}/retry": () => ({ good: { expect: 409 }, bad: { token: alice } }),
  "GET /api/videos/{id}/stats": () => ({ good: { token: alice }, bad: { token: alice, path: "/api/videos/{id}/stats?days=0" } }),
  "GET /api/admin/qoe": () => ({ good: {}, bad: { path: "/api/admin/qoe?days=x" } }),
  "GET /api/admin/budget": () => ({ good: {}, bad: { token: alice } }),
  "PUT /api/admin/budget": () => ({ good: { body: { spikeThresholdPct: 60 } }, bad: { body: { spikeThresholdPct: 0 } } }),
  "GET /api/admin/costs": () => ({ good: {}, bad: { path: "/api/admin/costs?month=2026-13" } }),
  "GET /api/admin/costs/estimate": () => ({ good: { path: "/api/admin/costs/estimate?activeUsers=500" }, bad: {} }),
  "POST /api/admin/api-keys": () => ({ good: { body: { name: "docs", scopes: ["videos:read"] } }, bad: { body: { name: "docs" } } }),
  "GET /api/admin/api-keys": () => ({ good: {}, bad: { token: alice } }),
  "DELETE /api/admin/api-keys/{id}": ({ keyId }) => ({
    good: { path: `/api/admin/api-keys/${keyId}` },
    bad: { path: "/api/admin/api-keys/nope" },
  }),
  "POST /api/admin/webhooks": () => ({
    good: { body: { url: "https://hooks.example.com/videos", events: ["video.ready"] } },
    bad: { body: { url: "https://10.0.0.7/videos", events: ["video.ready"] } },
  }),
  "GET /api/admin/webhooks": () => ({ good: {}, bad: { token: alice } }),
  "DELETE /api/admin/webhooks/{id}": ({ hooks }) => ({
    good: { path: `/api/admin/webhooks/${hooks[0]}` },
    bad: { path: "/api/admin/webhooks/nope" },
  }),
  "GET /api/admin/webhooks/{id}/deliveries": ({ hooks }) => ({
    good: { path: `/api/admin/webhooks/${hooks[1]}/deliveries` },
    bad: { path: "/api/admin/webhooks/nope/deliveries" },
  }),
  // Resending is covered in webhooks.test.ts; here: the documented 404 for an unknown delivery.
  "POST /api/admin/webhooks/{id}/deliveries/{deliveryId}/resend": ({ hooks }) => ({
    good: { path: `/api/admin/webhooks/${hooks[1]}/deliveries/nope/resend`, expect: 404 },
    bad: { token: alice, path: `/api/admin/webhooks/${hooks[1]}/deliveries/nope/resend` },
  }),
  "POST /api/direct-uploads": () => ({ good: { body: { creatorId: "carol" } }, bad: { body: { creatorId: "carol smith" } } }),
  "POST /api/playback-events": ({ id }) => ({
    good: { token: null, body: { videoId: id, sessionId: "session-0001", type: "start", startupMs: 800 } },
    bad: { token: null, body: { videoId: id, sessionId: "s", type: "start" } },
  }),
  "POST /api/auth/dev-login": () => ({ good: { token: null, body: { userId: "dora" } }, bad: { token: null, body: { userId: "" } } }),
  "GET /oembed": ({ id }) => ({
    good: { token: null, path: `/oembed?url=${encodeURIComponent(`${BASE}/watch/${id}`)}` },
    bad: { token: null },
  }),
  "GET /api/openapi.json": () => ({ good: { token: alice }, bad: { token: null, expect: 401 } }),
};

/** The zod schema a route declared for this status, as registered (the one the document is made from). */
function responseSchema(method: string, path: string, status: number): ZodType | undefined {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== "route" || def.route.method !== method || def.route.path !== path) continue;
    const content = (def.route.responses[status] as { content?: Record<string, { schema?: ZodType }> } | undefined)?.content;
    return content?.["application/json"]?.schema;
  }
  return undefined;
}

describe("every documented JSON operation", () => {
  const json = operations.filter(
    (o) =>
      o.op.requestBody?.content["application/json"] ||
      Object.values(o.op.responses).some((r) => r.content?.["application/json"] && !r.content?.["text/plain"]),
  );
  // The delivery and tus routes are not JSON; their errors are, though (except tus's).
  const jsonRoutes = json.filter((o) => !/^\/videos\/|^\/api\/video\/uploads|^\/(watch|embed)\//.test(o.path));

  it("has a good and a bad request below", () => {
    expect(jsonRoutes.map((o) => o.key).sort()).toEqual(Object.keys(CASES).sort());
  });

  it("answers the good request as documented and the bad one with 4xx {error, message}", async () => {
    const id = await readyVideo();
    const other = await readyVideo();
    const created = await call(admin, "POST", "/api/admin/api-keys", { name: "to revoke", scopes: ["videos:read"] });
    const hook = async () =>
      (
        (await (
          await call(admin, "POST", "/api/admin/webhooks", { url: "https://hooks.example.com/x", events: ["video.ready"] })
        ).json()) as { id: string }
      ).id;
    const fixture: Fixture = {
      id,
      other,
      queued: await readyVideo("QUEUED"),
      keyId: ((await created.json()) as { id: string }).id,
      hooks: [await hook(), await hook()],
    };
    for (const { key, method, path, op } of jsonRoutes) {
      const { good, bad } = CASES[key]!(fixture);
      const url = (c: Case) => (c.path ?? path).replace("{id}", id);
      const res = await call(good.token === undefined ? admin : good.token, method.toUpperCase(), url(good), good.body);
      expect(Object.keys(op.responses), `${key}: status ${res.status} is not documented`).toContain(String(res.status));
      if (good.expect === undefined) expect(res.status, key).toBeLessThan(300);
      else expect(res.status, key).toBe(good.expect);
      const schema = responseSchema(method, path, res.status);
      if (schema) {
        const parsed = schema.safeParse(await res.json());
        expect(parsed.success ? [] : parsed.error.issues, `${key} answered ${res.status}`).toEqual([]);
      } else await res.body?.cancel();

      const refused = await call(bad.token === undefined ? admin : bad.token, method.toUpperCase(), url(bad), bad.body);
      expect(refused.status, key).toBeGreaterThanOrEqual(400);
      expect(refused.status, key).toBeLessThan(bad.expect === undefined ? 500 : bad.expect + 1);
      expect(Object.keys(op.responses), `${key}: refusal ${refused.status} is not documented`).toContain(String(refused.status));
      const error = (await refused.json()) as { error: unknown; message: unknown };
      expect(Object.keys(error).sort(), key).toEqual(["error", "message"]);
      expect(error.message, key).toMatch(/^\S.*\.$/);
    }
  });
});

describe("a request the schemas refuse", () => {
  it("answers 400 {error, message} with the route's own code and sentence", async () => {
    const id = await readyVideo();
    const patch = (body: string, type = "application/json") =>
      SELF.fetch(`${BASE}/api/videos/${id}`, {
        method: "PATCH",
        headers: { Authorization: `Bearer ${alice}`, "Content-Type": type },
        body,
      });
    expect(await (await patch("{")).json()).toEqual({
      error: "invalid_body",
      message: "Send a JSON object with title, visibility and/or downloadable.",
    });
    expect(await (await patch("[1]")).json()).toMatchObject({ error: "invalid_body" });
    expect(await (await patch(JSON.stringify({ title: "ok", downloadable: "yes" }))).json()).toEqual({
      error: "invalid_downloadable",
      message: "downloadable must be true or false.",
    });
    // A body that is not declared as JSON is refused rather than guessed at.
    const text = await patch(JSON.stringify({ title: "ok" }), "text/plain");
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: "unsupported_media_type" });

    const share = await call(alice, "POST", `/api/videos/${id}/share`, { expiresInSec: 1.5 });
    expect(share.status).toBe(400);
    expect(await share.json()).toMatchObject({ error: "invalid_expiry", message: expect.stringMatching(/30 days\)\.$/) });
  });

  it("names the field and what is expected when the route gives no sentence of its own", async () => {
    const res = await call(admin, "GET", "/api/videos?include=everything");
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe("invalid_include");
    expect(body.message).toMatch(/^include is not valid: .*job.*\.$/);
  });
});
