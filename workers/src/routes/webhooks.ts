import { Hono } from "hono";
import { requireScope, type AppEnv } from "../http/auth.ts";
import { ApiError, notFound } from "../http/errors.ts";
import {
  deleteEndpoint,
  deliveriesOfEndpoint,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  resendDelivery,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
} from "../db/webhooks.ts";
import { checkEndpointUrl, newMessageId, newSecret } from "../webhooks/policy.ts";
import { enqueueDeliveries } from "../webhooks/deliver.ts";
import {
  WEBHOOK_EVENTS,
  isWebhookEvent,
  type WebhookDeliveryListResponse,
  type WebhookDeliveryResponse,
  type WebhookEndpointCreated,
  type WebhookEndpointListResponse,
  type WebhookEndpointResponse,
  type WebhookEventType,
} from "../../../contract/webhooks.ts";

/** Webhook endpoints and their deliveries: admins, or API keys with `webhooks:manage` (403 otherwise). */
export const webhooks = new Hono<AppEnv>();
webhooks.use("*", requireScope("webhooks:manage"));

const MAX_ENDPOINTS = 20;

webhooks.post("/", async (c) => {
  const body = (await c.req.json().catch(() => null)) as { url?: unknown; events?: unknown } | null;
  if (!body || typeof body !== "object") throw new ApiError(400, "invalid_json", "The body must be JSON: {url, events}.");
  const checked = checkEndpointUrl(body.url, c.env.DEV_AUTH === "true");
  if (!checked.ok) throw new ApiError(400, "invalid_url", checked.message);
  const events = body.events;
  if (!Array.isArray(events) || events.length === 0 || !events.every(isWebhookEvent))
    throw new ApiError(400, "invalid_events", `events must be a non-empty list of: ${WEBHOOK_EVENTS.join(", ")}.`);
  if ((await listEndpoints(c.env.DB)).length >= MAX_ENDPOINTS)
    throw new ApiError(409, "too_many_endpoints", `There are already ${MAX_ENDPOINTS} webhook endpoints; delete one first.`);
  const row: WebhookEndpointRow = {
    id: newMessageId("wh"),
    url: checked.url,
    events: JSON.stringify([...new Set(events as WebhookEventType[])]),
    secret: newSecret(),
    createdBy: c.get("user").id,
    createdAt: Date.now(),
  };
  await insertEndpoint(c.env.DB, row);
  // The secret is shown here only; the list never carries it.
  return c.json<WebhookEndpointCreated>({ ...endpointResponse(row), secret: row.secret }, 201);
});

webhooks.get("/", async (c) => c.json<WebhookEndpointListResponse>({ endpoints: (await listEndpoints(c.env.DB)).map(endpointResponse) }));

webhooks.delete("/:id", async (c) => {
  // Its pending deliveries go with it: their messages find no row and are dropped.
  if (!(await deleteEndpoint(c.env.DB, c.req.param("id")))) throw notFound("Webhook endpoint");
  return c.body(null, 204);
});

webhooks.get("/:id/deliveries", async (c) => {
  const endpoint = await findEndpoint(c.env.DB, c.req.param("id"));
  if (!endpoint) throw notFound("Webhook endpoint");
  const { deliveries, attempts } = await deliveriesOfEndpoint(c.env.DB, endpoint.id);
  return c.json<WebhookDeliveryListResponse>({ deliveries: deliveries.map((d) => deliveryResponse(d, attempts)) });
});

/** Sends the delivery again now, with the same `webhook-id` (a receiver that has it already can skip it) and a fresh retry budget. */
webhooks.post("/:id/deliveries/:deliveryId/resend", async (c) => {
  const row = await resendDelivery(c.env.DB, c.req.param("id"), c.req.param("deliveryId"), Date.now());
  if (!row) throw notFound("Webhook delivery");
  await enqueueDeliveries(c.env, [row.id]);
  return c.json<WebhookDeliveryResponse>(deliveryResponse(row, []), 202);
});

function endpointResponse(row: WebhookEndpointRow): WebhookEndpointResponse {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as WebhookEventType[],
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function deliveryResponse(row: WebhookDeliveryRow, attempts: WebhookAttemptRow[]): WebhookDeliveryResponse {
  return {
    id: row.id,
    type: row.type as WebhookEventType,
    videoId: row.videoId || null,
    status: row.status,
    attempts: row.attempts,
    lastStatus: row.lastStatus,
    lastError: row.lastError,
    lastAttemptAt: iso(row.lastAttemptAt),
    nextAttemptAt: row.status === "pending" ? iso(row.nextAttemptAt) : null,
    deliveredAt: iso(row.deliveredAt),
    createdAt: new Date(row.createdAt).toISOString(),
    attemptLog: attempts
      .filter((a) => a.deliveryId === row.id)
      .map((a) => ({
        attempt: a.attempt,
        at: new Date(a.at).toISOString(),
        statusCode: a.statusCode,
        error: a.error,
        durationMs: a.durationMs,
      })),
  };
}
