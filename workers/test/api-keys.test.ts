import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, DEFAULT_METADATA, tus, usualUsers } from "./helpers.ts";
import { SCOPES, type Scope } from "../../contract/scopes.ts";
import type { ApiKeyListResponse, CreatedApiKey } from "../../contract/api-keys.ts";
import type { VideoListResponse } from "../../contract/api.ts";

const { alice, bob, admin } = await usualUsers();

const call = (path: string, token: string | null, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), "content-type": "application/json", ...init.headers },
  });

async function createKey(scopes: Scope[], name = "social app"): Promise<CreatedApiKey> {
  const res = await call("/api/admin/api-keys", admin, { method: "POST", body: JSON.stringify({ name, scopes }) });
  expect(res.status).toBe(201);
  return res.json();
}

const listKeys = async (): Promise<ApiKeyListResponse> => (await call("/api/admin/api-keys", admin)).json();

/** A READY public or private video of `owner`, straight in D1. */
async function video(owner: string, visibility: "public" | "private" = "private"): Promise<string> {
  const id = crypto.randomUUID();
  const now = Date.now();
  await env.DB.prepare(
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, upload_expires_at, created_at, updated_at, source_bytes)
     VALUES (?, ?, 't', 't.mp4', 'video/mp4', 'READY', 1, ?, 1, 1, ?, ?, ?, 1234)`,
  )
    .bind(id, owner, visibility, now + 1e9, now, now)
    .run();
  return id;
}

describe("making, listing and revoking keys", () => {
  it("shows the key once, stores only its hash, and lists no secret", async () => {
    const created = await createKey(["videos:read", "uploads:create"]);
    expect(created.key).toMatch(/^evk_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: "social app", scopes: ["uploads:create", "videos:read"] });
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(JSON.stringify(stored)).not.toContain(created.key);
    expect(JSON.stringify(stored)).not.toContain(created.key.slice(8));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(created.key)));
    expect(stored?.key_hash).toBe(Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));

    const listed = await listKeys();
    const mine = listed.keys.find((k) => k.id === created.id);
    expect(mine).toMatchObject({ name: "social app", scopes: ["uploads:create", "videos:read"], createdBy: "root", lastUsedAt: null });
    expect(mine?.hint).toBe(created.key.slice(0, 8));
    const text = JSON.stringify(listed);
    expect(text).not.toContain(created.key);
    expect(text).not.toContain(String(stored?.key_hash));
  });

  it("is admin-only: creators get 403, and no key manages keys, whatever its scopes", async () => {
    expect((await call("/api/admin/api-keys", alice)).status).toBe(403);
    const res = await call("/api/admin/api-keys", alice, { method: "POST", body: JSON.stringify({ name: "x", scopes: ["videos:read"] }) });
    expect(res.status).toBe(403);
    const all = await createKey([...SCOPES]);
    for (const init of [{}, { method: "POST", body: JSON.stringify({ name: "x", scopes: ["videos:read"] }) }, { method: "DELETE" }]) {
      const path = init.method === "DELETE" ? `/api/admin/api-keys/${all.id}` : "/api/admin/api-keys";
      const refused = await call(path, all.key, init);
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: "forbidden" });
    }
  });

  it("refuses bad names and scopes with 400 and says what is valid", async () => {
    const post = (body: unknown) => call("/api/admin/api-keys", admin, { method: "POST", body: JSON.stringify(body) });
    const cases: [unknown, string][] = [
      [{ name: "", scopes: ["videos:read"] }, "invalid_name"],
      [{ name: "   ", scopes: ["videos:read"] }, "invalid_name"],
      [{ name: "x".repeat(101), scopes: ["videos:read"] }, "invalid_name"],
      [{ name: 42, scopes: ["videos:read"] }, "invalid_name"],
      [{ name: "ok" }, "invalid_scopes"],
      [{ name: "ok", scopes: [] }, "invalid_scopes"],
      [{ name: "ok", scopes: "videos:read" }, "invalid_scopes"],
      [["not", "an object"], "invalid_body"],
    ];
    for (const [body, code] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe(code);
    }
    const unknown = await post({ name: "ok", scopes: ["videos:read", "videos:admin"] });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as { error: string; message: string };
    expect(body.error).toBe("invalid_scopes");
    expect(body.message).toContain('"videos:admin"');
    for (const scope of SCOPES) expect(body.message).toContain(scope);
    const garbled = await call("/api/admin/api-keys", admin, { method: "POST", body: "{nope" });
    expect(garbled.status).toBe(400);
    expect((await post({ name: "x".repeat(100), scopes: ["videos:read"] })).status).toBe(201);
  });

  it("refuses a revoked key on the very next request, and forgets it in the list", async () => {
    const created = await createKey(["videos:read"]);
    expect((await call("/api/videos", created.key)).status).toBe(200);
    expect((await call(`/api/admin/api-keys/${created.id}`, admin, { method: "DELETE" })).status).toBe(204);
    const refused = await call("/api/videos", created.key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: "invalid_api_key" });
    expect((await listKeys()).keys.map((k) => k.id)).not.toContain(created.id);
    expect((await call(`/api/admin/api-keys/${created.id}`, admin, { method: "DELETE" })).status).toBe(404);
    expect((await call("/api/admin/api-keys/no-such-key", admin, { method: "DELETE" })).status).toBe(404);
  });

  it("records when a key was last used", async () => {
    const created = await createKey(["videos:read"]);
    const before = Date.now();
    expect((await call("/api/videos", created.key)).status).toBe(200);
    let lastUsedAt: number | null = null;
    for (let i = 0; i < 50 && lastUsedAt === null; i++) {
      lastUsedAt = (await listKeys()).keys.find((k) => k.id === created.id)?.lastUsedAt ?? null;
      if (lastUsedAt === null) await new Promise((r) => setTimeout(r, 20));
    }
    expect(lastUsedAt).toBeGreaterThanOrEqual(before);
  });
});

describe("what a key may call", () => {
  it("refuses wrong and garbled keys with 401", async () => {
    const real = await createKey(["videos:read"]);
    const wrong = [
      `evk_${"A".repeat(43)}`, // well-formed, unknown
      `${real.key.slice(0, -1)}${real.key.endsWith("A") ? "B" : "A"}`, // one character off
      "evk_short",
      `${real.key}x`,
      "evk_",
    ];
    for (const key of wrong) {
      const res = await call("/api/videos", key);
      expect(res.status, key).toBe(401);
      expect(await res.json()).toMatchObject({ error: "invalid_api_key" });
    }
  });

  it("videos:read sees every creator's videos with the full response", async () => {
    const mine = await video("alice");
    const theirs = await video("bob", "public");
    const key = (await createKey(["videos:read"])).key;
    const list = (await (await call("/api/videos", key)).json()) as VideoListResponse;
    expect(list.videos.map((v) => v.id)).toEqual(expect.arrayContaining([mine, theirs]));
    for (const id of [mine, theirs]) {
      const res = await call(`/api/videos/${id}`, key);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id, sourceBytes: 1234, message: expect.any(String) });
    }
    expect((await call(`/api/videos/${mine}/playback`, key)).status).toBe(200);
    // Reading is not writing.
    const patch = await call(`/api/videos/${mine}`, key, { method: "PATCH", body: JSON.stringify({ title: "nope" }) });
    expect(patch.status).toBe(403);
    expect(((await patch.json()) as { message: string }).message).toContain("videos:write");
    expect((await call(`/api/videos/${mine}`, key, { method: "DELETE" })).status).toBe(403);
    expect((await call(`/api/videos/${mine}/cancel`, key, { method: "POST" })).status).toBe(403);
  });

  it("videos:write changes and deletes any creator's video; without videos:read it reads nothing", async () => {
    const id = await video("alice");
    const other = await video("bob");
    const key = (await createKey(["videos:write"])).key;
    const patch = await call(`/api/videos/${id}`, key, { method: "PATCH", body: JSON.stringify({ title: "By the app" }) });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ id, title: "By the app", ownerId: "alice" });
    const read = await call(`/api/videos/${id}`, key);
    expect(read.status).toBe(403);
    expect(((await read.json()) as { message: string }).message).toContain("videos:read");
    expect((await call("/api/videos", key)).status).toBe(403);
    expect((await call(`/api/videos/${other}`, key, { method: "DELETE" })).status).toBe(204);
    expect((await call(`/api/videos/${other}`, bob)).status).toBe(404);
    // A missing video is still 404 for a key that may write.
    expect((await call(`/api/videos/${crypto.randomUUID()}`, key, { method: "DELETE" })).status).toBe(404);
  });

  it("is 403 on routes no scope opens, even with every scope", async () => {
    const id = await video("alice");
    const key = (await createKey([...SCOPES])).key;
    const refused: [string, RequestInit][] = [
      ["/api/admin/budget", {}],
      ["/api/admin/costs", {}],
      [`/api/videos/${id}/share`, { method: "POST", body: JSON.stringify({ expiresInSec: 600 }) }],
      [`/api/videos/${id}/priority`, { method: "POST" }],
      [`/api/videos/${id}/stats`, {}],
    ];
    for (const [path, init] of refused) {
      const res = await call(path, key, init);
      expect(res.status, path).toBe(403);
      expect(await res.json()).toMatchObject({ error: "forbidden" });
    }
    // Uploading in its own name is not what a key does (direct uploads are made for a creator).
    const upload = await SELF.fetch(`${BASE}/api/video/uploads`, {
      method: "POST",
      headers: tus(key, { "Upload-Metadata": DEFAULT_METADATA, "Upload-Length": "10" }),
    });
    expect(upload.status).toBe(403);
    // People are unaffected.
    expect((await call(`/api/videos/${id}`, alice)).status).toBe(200);
    expect((await call("/api/admin/budget", admin)).status).toBe(200);
  });

  it("refuses a token that is neither a key nor one of our JWTs while no identity provider is configured", async () => {
    const header = btoa(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "k1" })).replace(/=+$/, "");
    const payload = btoa(JSON.stringify({ sub: "mallory", role: "admin", exp: Math.floor(Date.now() / 1000) + 600 })).replace(/=+$/, "");
    const res = await call("/api/videos", `${header}.${payload}.c2ln`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_token" });
  });
});
