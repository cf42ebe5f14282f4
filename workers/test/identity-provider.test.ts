import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SignJWT, generateKeyPair } from "jose";
import { identityProviderEnabled, verifyProviderToken } from "../src/http/identity-provider.ts";
import { ApiError } from "../src/http/errors.ts";
import { BASE } from "./helpers.ts";

/** The provider's keys are fetched for real in the end-to-end test (social-auth); here, what surrounds that. */

const provider = (over: Partial<Env> = {}): Env => ({
  ...env,
  JWT_ISSUER: "https://id.test/",
  JWT_AUDIENCE: "edge-video",
  // A closed port: the keys cannot be fetched.
  JWT_JWKS_URL: "http://127.0.0.1:9/jwks.json",
  ...over,
});

async function rs256Token(): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return new SignJWT({ role: "admin" })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setSubject("carol")
    .setIssuer("https://id.test/")
    .setAudience("edge-video")
    .setExpirationTime("10m")
    .sign(privateKey);
}

describe("identity provider configuration", () => {
  it("is off unless issuer, audience and JWKS URL are all set", () => {
    expect(identityProviderEnabled(env)).toBe(false);
    expect(identityProviderEnabled(provider())).toBe(true);
    expect(identityProviderEnabled(provider({ JWT_AUDIENCE: "" }))).toBe(false);
    expect(identityProviderEnabled(provider({ JWT_ISSUER: "" }))).toBe(false);
  });

  it("answers 503, not 401, when the provider's keys cannot be fetched (the token may be good)", async () => {
    const error = await verifyProviderToken(provider(), await rs256Token()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(503);
  });

  it("refuses a provider token with 401 while no provider is configured", async () => {
    const res = await SELF.fetch(`${BASE}/api/videos`, { headers: { Authorization: `Bearer ${await rs256Token()}` } });
    expect(res.status).toBe(401);
  });
});
