/**
 * The social app's own sign-in and server keys against the real local stack (wrangler dev):
 *  - tokens of an identity provider whose JWKS this test serves on loopback (a plain node HTTP
 *    server), signed with jose: good, wrong audience, wrong issuer, expired, without exp, and
 *    after a key rotation (new kid, old key removed);
 *  - the admin page in Chromium: create a key (shown once, with a copy button), see it listed,
 *    use it, revoke it, and see it refused.
 */
import { createServer, type Server } from "node:http";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, useTestStack } from "./fixture.ts";
import { DESKTOP, launchBrowser, newPage, screenshot, signIn } from "./browser.ts";

// Functions passed to page.evaluate run in the page; this project has no DOM lib, so they see it as `any`.
declare const navigator: any;

const ISSUER = "https://id.social.test/";
const AUDIENCE = "edge-video-social";
const jwksPort = await freePort();

/** What the loopback identity provider publishes right now, and how often it was asked. */
let published: { keys: JWK[] } = { keys: [] };
let jwksFetches = 0;
let jwksServer: Server;

const files = useTestStack({
  vars: {
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: AUDIENCE,
    JWT_JWKS_URL: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`,
    // A provider-specific claim name, to show the role claim is configurable.
    JWT_ROLE_CLAIM: "app_role",
    // Short, so the rotation below need not wait the default 30 s for a refetch.
    JWT_JWKS_COOLDOWN_SECONDS: "2",
  },
});

interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: "RS256" | "ES256"): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

function token(
  key: SigningKey,
  opts: { sub?: string; role?: string; iss?: string; aud?: string; expSec?: number | null } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(opts.role === undefined ? {} : { app_role: opts.role })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
    .setSubject(opts.sub ?? "carol")
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(now);
  if (opts.expSec !== null) jwt.setExpirationTime(now + (opts.expSec ?? 600));
  return jwt.sign(key.privateKey);
}

const get = (path: string, bearer: string) => fetch(`${files.stack.baseUrl}${path}`, { headers: { Authorization: `Bearer ${bearer}` } });

let first: SigningKey;
let browser: Browser;

beforeAll(async () => {
  first = await signingKey("key-2026-01", "RS256");
  published = { keys: [first.jwk] };
  jwksServer = createServer((req, res) => {
    jwksFetches++;
    if (req.url !== "/.well-known/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(published));
  });
  await new Promise<void>((resolve) => jwksServer.listen(jwksPort, "127.0.0.1", resolve));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
});

describe("identity provider tokens (JWKS)", () => {
  it("accepts a good token, with the role from the configured claim", async () => {
    const creator = await get("/api/videos", await token(first));
    expect(creator.status).toBe(200);
    expect((await get("/api/admin/budget", await token(first, { role: "editor" }))).status).toBe(403);
    expect((await get("/api/admin/budget", await token(first, { sub: "dana", role: "admin" }))).status).toBe(200);
    expect(jwksFetches).toBeGreaterThanOrEqual(1);
  });

  it("refuses a wrong audience, a wrong issuer, an expired token and one without exp (401)", async () => {
    const bad = [
      await token(first, { aud: "someone-else" }),
      await token(first, { iss: "https://evil.test/" }),
      await token(first, { expSec: -120 }),
      await token(first, { expSec: null }),
    ];
    for (const jwt of bad) {
      const res = await get("/api/videos", jwt);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: "invalid_token" });
    }
    // A key the provider never published.
    const stranger = await signingKey(first.kid, "RS256");
    expect((await get("/api/videos", await token(stranger))).status).toBe(401);
  });

  it("keeps HS256 dev tokens working beside the provider's", async () => {
    expect((await get("/api/videos", await files.stack.tokenFor("alice"))).status).toBe(200);
  });

  it("follows a key rotation: a new kid is fetched, the removed key is refused", async () => {
    const oldToken = await token(first);
    expect((await get("/api/videos", oldToken)).status).toBe(200);
    const next = await signingKey("key-2026-02", "ES256");
    published = { keys: [next.jwk] }; // the old key is removed
    const fetchesBefore = jwksFetches;
    // The refetch for an unknown kid is rate-limited (JWT_JWKS_COOLDOWN_SECONDS): let it pass.
    await new Promise((r) => setTimeout(r, 2_500));
    const fresh = await get("/api/videos", await token(next, { sub: "erin" }));
    expect(fresh.status).toBe(200);
    expect(jwksFetches).toBe(fetchesBefore + 1);
    const removed = await get("/api/videos", oldToken);
    expect(removed.status).toBe(401);
  });
});

describe("API keys on the admin page", () => {
  it("creates a key, shows it once with a copy button, lists it, and revokes it", async () => {
    const { context, page } = await newPage(browser, files.stack.baseUrl, DESKTOP);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: files.stack.baseUrl });
    await signIn(page, "root", "admin");
    await page.getByRole("link", { name: "Admin" }).click();
    const section = page.getByTestId("api-keys");
    await section.getByText("No API keys yet.").waitFor();

    // Nothing is sent without a scope.
    await section.getByLabel("Key name").fill("Social backend");
    await section.getByRole("button", { name: "Create key" }).click();
    await section.getByText("Choose at least one scope.").waitFor();

    await section.getByLabel("Read every video").check();
    await section.getByRole("button", { name: "Create key" }).click();
    const shown = section.getByTestId("new-api-key-value");
    await shown.waitFor();
    const key = await shown.inputValue();
    expect(key).toMatch(/^evk_[A-Za-z0-9_-]{43}$/);
    await section.getByText("Copy it now: it will not be shown again.").waitFor();
    await section.getByRole("button", { name: "Copy", exact: true }).click();
    await section.getByText("Key copied.").waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);

    const row = section.getByTestId("api-key-list").locator("tbody tr", { hasText: "Social backend" });
    await row.waitFor();
    expect(await row.textContent()).toContain(key.slice(0, 8));
    expect(await row.textContent()).toContain("videos:read");
    expect(await row.textContent()).toContain("Never");
    await screenshot(page, "admin-api-keys-desktop-en");

    // The key works, and its use shows up in the list.
    expect((await get("/api/videos", key)).status).toBe(200);
    // Shown once: after a reload the key is listed, never shown again.
    await page.reload();
    await row.waitFor();
    await expect.poll(() => row.textContent()).not.toContain("Never");
    expect(await section.getByTestId("new-api-key-value").count()).toBe(0);
    expect(await page.content()).not.toContain(key);

    await row.getByRole("button", { name: "Revoke" }).click(); // confirm() is accepted
    await section.getByText("Key “Social backend” revoked.").waitFor();
    await section.getByText("No API keys yet.").waitFor();
    const refused = await get("/api/videos", key);
    expect(refused.status).toBe(401);
    await context.close();
  });
});
