import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../http/auth.ts";
import {
  BODY_ERRORS,
  ERRORS,
  SECURITY,
  jsonBody,
  jsonContent,
  jsonRequest,
  openApiRoutes,
  rejectInput,
  type SameShape,
} from "../http/openapi.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { generateApiKey, hashApiKey, keyHint, scopesOf } from "../http/api-keys.ts";
import { insertApiKey, listActiveKeys, revokeApiKey } from "../db/api-keys.ts";
import { sanitizeText } from "../tus/protocol.ts";
import type { ApiKeyRow } from "../db/schema.ts";
import { SCOPES, isScope, type Scope } from "../../../contract/scopes.ts";
import { API_KEY_NAME_MAX, type ApiKeyInfo, type CreatedApiKey } from "../../../contract/api-keys.ts";

/** Server API keys: the admin makes, lists and revokes them. Admin role only; no key manages keys. */
export const apiKeys = openApiRoutes();
apiKeys.use("*", requireAdmin);

const ADMIN = { security: SECURITY.user, "x-required-role": "admin" } as const;
const ScopeSchema = z.enum(SCOPES).openapi("Scope");
const ApiKeyInfoSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(ScopeSchema),
    hint: z.string().openapi({ description: "The key's last characters, to tell keys apart." }),
    createdBy: z.string(),
    createdAt: z.number().int().openapi({ description: "Milliseconds since the epoch." }),
    lastUsedAt: z.number().int().nullable(),
  })
  .openapi("ApiKeyInfo");
const CreatedApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(ScopeSchema),
    key: z.string().openapi({ description: "`evk_…`: shown in this answer only, stored hashed.", example: "evk_…" }),
  })
  .openapi("CreatedApiKey");

const createRouteDef = createRoute({
  method: "post",
  path: "/",
  summary: "Make a server API key",
  ...ADMIN,
  middleware: [jsonBody({ json: ["invalid_json", "The body must be JSON: {name, scopes}."] })] as const,
  request: {
    body: jsonRequest(
      z.object({ name: z.string().min(1).max(API_KEY_NAME_MAX), scopes: z.array(ScopeSchema).min(1) }).openapi("CreateApiKey"),
    ),
  },
  responses: { 201: jsonContent(CreatedApiKeySchema, "The key, shown once."), ...BODY_ERRORS },
});

/** "The key is shown once and stored only as a hash": this answer is the only one carrying it. */
apiKeys.openapi(
  createRouteDef,
  async (c) => {
    const { name, scopes } = validate(c.req.valid("json"));
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
    return c.json({ id: row.id, name, scopes, key }, 201);
  },
  // The sentences name the valid scopes and the unknown ones sent.
  rejectInput(validate),
);

const listRoute = createRoute({
  method: "get",
  path: "/",
  summary: "List the active API keys",
  description: "No secrets: each key shows its hint only.",
  ...ADMIN,
  responses: {
    200: jsonContent(z.object({ keys: z.array(ApiKeyInfoSchema) }), "The keys not revoked."),
    401: ERRORS[401],
    403: ERRORS[403],
  },
});
apiKeys.openapi(listRoute, async (c) => c.json({ keys: (await listActiveKeys(c.env.DB)).map(toInfo) }, 200));

const revokeRoute = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Revoke an API key",
  description: "Refused at once afterwards.",
  ...ADMIN,
  request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
  responses: { 204: { description: "Revoked." }, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404] },
});

/** "Refused at once afterwards": requests look their key up on every call, with no cache. */
apiKeys.openapi(revokeRoute, async (c) => {
  if (!(await revokeApiKey(c.env.DB, c.req.valid("param").id, Date.now()))) throw notFound("API key");
  return c.body(null, 204);
});

const sameInfo: SameShape<z.infer<typeof ApiKeyInfoSchema>, ApiKeyInfo> = true;
const sameCreated: SameShape<z.infer<typeof CreatedApiKeySchema>, CreatedApiKey> = true;
void [sameInfo, sameCreated];

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
