import { Hono } from "hono";
import { requireAdmin, type AppEnv } from "../http/auth.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { generateApiKey, hashApiKey, keyHint, scopesOf } from "../http/api-keys.ts";
import { insertApiKey, listActiveKeys, revokeApiKey } from "../db/api-keys.ts";
import { sanitizeText } from "../tus/protocol.ts";
import type { ApiKeyRow } from "../db/schema.ts";
import { SCOPES, isScope, type Scope } from "../../../contract/scopes.ts";
import { API_KEY_NAME_MAX, type ApiKeyInfo, type ApiKeyListResponse, type CreatedApiKey } from "../../../contract/api-keys.ts";

/** Server API keys: the admin makes, lists and revokes them. Admin role only; no key manages keys. */
export const apiKeys = new Hono<AppEnv>();
apiKeys.use("*", requireAdmin);

/** "The key is shown once and stored only as a hash": this answer is the only one carrying it. */
apiKeys.post("/", async (c) => {
  const body = await c.req.json().catch(() => {
    throw new ApiError(400, "invalid_json", "The body must be JSON: {name, scopes}.");
  });
  const { name, scopes } = validate(body);
  const key = generateApiKey();
  const row: ApiKeyRow = {
    id: crypto.randomUUID(),
    name,
    scopes: JSON.stringify(scopes),
    keyHash: await hashApiKey(key),
    hint: keyHint(key),
    createdBy: c.get("user").id,
    createdAt: Date.now(),
    lastUsedAt: null,
    revokedAt: null,
  };
  await insertApiKey(c.env.DB, row);
  return c.json<CreatedApiKey>({ id: row.id, name, scopes, key }, 201);
});

apiKeys.get("/", async (c) => c.json<ApiKeyListResponse>({ keys: (await listActiveKeys(c.env.DB)).map(toInfo) }));

/** "Refused at once afterwards": requests look their key up on every call, with no cache. */
apiKeys.delete("/:id", async (c) => {
  if (!(await revokeApiKey(c.env.DB, c.req.param("id"), Date.now()))) throw notFound("API key");
  return c.body(null, 204);
});

function validate(body: unknown): { name: string; scopes: Scope[] } {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new ApiError(400, "invalid_body", "Send a JSON object: {name, scopes}.");
  }
  const raw = body as { name?: unknown; scopes?: unknown };
  const name = typeof raw.name === "string" ? sanitizeText(raw.name, API_KEY_NAME_MAX + 1) : "";
  if (!name || [...name].length > API_KEY_NAME_MAX) {
    throw new ApiError(400, "invalid_name", `name must be a non-empty text of at most ${API_KEY_NAME_MAX} characters.`);
  }
  const valid = SCOPES.join(", ");
  if (!Array.isArray(raw.scopes) || raw.scopes.length === 0) {
    throw new ApiError(400, "invalid_scopes", `scopes must be a non-empty list drawn from: ${valid}.`);
  }
  const unknown = raw.scopes.filter((s) => !isScope(s));
  if (unknown.length > 0) {
    const shown = unknown.map((s) => (typeof s === "string" ? `"${s.slice(0, 40)}"` : String(JSON.stringify(s)).slice(0, 40))).join(", ");
    throw new ApiError(400, "invalid_scopes", `Unknown scope ${shown}; the valid scopes are: ${valid}.`);
  }
  // Kept in the contract's order, each once.
  return { name, scopes: SCOPES.filter((s) => (raw.scopes as unknown[]).includes(s)) };
}

const toInfo = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  scopes: scopesOf(row),
  hint: row.hint,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt ?? null,
});
