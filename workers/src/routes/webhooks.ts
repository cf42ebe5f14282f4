import { createRoute, z } from "@hono/zod-openapi";
import { requireScope } from "../http/auth.ts";
import {
  BODY_ERRORS,
  ERRORS,
  SECURITY,
  errorResponse,
  jsonBody,
  jsonContent,
  jsonRequest,
  openApiRoutes,
  rejectInput,
  type SameShape,
} from "../http/openapi.ts";
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
import type { Context } from "hono";
import type { AppEnv } from "../http/auth.ts";

/** Webhook endpoints and their deliveries: admins, or API keys with `webhooks:manage` (403 otherwise). */
export const webhooks = openApiRoutes();
webhooks.use("*", requireScope("webhooks:manage"));

const MAX_ENDPOINTS = 20;
const MANAGE = { security: SECURITY.userOrKey, "x-required-scope": "webhooks:manage", "x-required-role": "admin" } as const;
const EventSchema = z.enum(WEBHOOK_EVENTS).openapi("WebhookEvent");
const EndpointSchema = z
  .object({ id: z.string(), url: z.string(), events: z.array(EventSchema), createdAt: z.string() })
  .openapi("WebhookEndpoint");
const CreatedSchema = EndpointSchema.extend({
  secret: z.string().openapi({ description: "`whsec_…` (Standard Webhooks): shown in this answer only.", example: "whsec_…" }),
}).openapi("WebhookEndpointCreated");
const AttemptSchema = z
  .object({
    attempt: z.number().int(),
    at: z.string(),
    statusCode: z.number().int().nullable().openapi({ description: "The receiver's status; null when it did not answer." }),
    error: z.string().nullable(),
    durationMs: z.number(),
  })
  .openapi("WebhookAttempt");
const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The `webhook-id` of every attempt." }),
    type: EventSchema,
    videoId: z.string().nullable(),
    status: z.enum(["pending", "delivered", "failed"]),
    attempts: z.number().int(),
    lastStatus: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    nextAttemptAt: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    attemptLog: z.array(AttemptSchema),
  })
  .openapi("WebhookDelivery");
const EndpointParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const notFoundEndpoint = { ...ERRORS, 404: errorResponse("No such webhook endpoint.") };

const createEndpointRoute = createRoute({
  method: "post",
  path: "/",
  summary: "Add a webhook endpoint",
  description: `\`https:\` to a public host (loopback \`http:\` only when DEV_AUTH is on); at most ${MAX_ENDPOINTS} endpoints.`,
  ...MANAGE,
  middleware: [jsonBody({ json: ["invalid_json", "The body must be JSON: {url, events}."] })] as const,
  request: {
    body: jsonRequest(z.object({ url: z.string(), events: z.array(EventSchema).min(1) }).openapi("CreateWebhookEndpoint")),
  },
  responses: {
    201: jsonContent(CreatedSchema, "The endpoint, with its secret (shown once)."),
    ...BODY_ERRORS,
    409: errorResponse("There are already as many endpoints as allowed."),
  },
});

webhooks.openapi(
  createEndpointRoute,
  async (c) => {
    const { url, events } = checkEndpoint(c.req.valid("json"), c);
    if ((await listEndpoints(c.env.DB)).length >= MAX_ENDPOINTS)
      throw new ApiError(409, "too_many_endpoints", `There are already ${MAX_ENDPOINTS} webhook endpoints; delete one first.`);
    const row: WebhookEndpointRow = {
      id: newMessageId("wh"),
      url,
      events: JSON.stringify([...new Set(events)]),
      secret: newSecret(),
      createdBy: c.get("user").id,
      createdAt: Date.now(),
    };
    await insertEndpoint(c.env.DB, row);
    // The secret is shown here only; the list never carries it.
    return c.json({ ...endpointResponse(row), secret: row.secret }, 201);
  },
  rejectInput(checkEndpoint),
);

const listEndpointsRoute = createRoute({
  method: "get",
  path: "/",
  summary: "List webhook endpoints",
  description: "No secrets.",
  ...MANAGE,
  responses: { 200: jsonContent(z.object({ endpoints: z.array(EndpointSchema) }), "Every endpoint."), ...ERRORS },
});
webhooks.openapi(listEndpointsRoute, async (c) => c.json({ endpoints: (await listEndpoints(c.env.DB)).map(endpointResponse) }, 200));

const deleteEndpointRoute = createRoute({
  method: "delete",
  path: "/{id}",
  summary: "Delete a webhook endpoint",
  description: "Its pending deliveries go with it.",
  ...MANAGE,
  request: { params: EndpointParam },
  responses: { 204: { description: "Deleted." }, ...notFoundEndpoint },
});
webhooks.openapi(deleteEndpointRoute, async (c) => {
  // Its pending deliveries go with it: their messages find no row and are dropped.
  if (!(await deleteEndpoint(c.env.DB, c.req.valid("param").id))) throw notFound("Webhook endpoint");
  return c.body(null, 204);
});

const deliveriesRoute = createRoute({
  method: "get",
  path: "/{id}/deliveries",
  summary: "An endpoint's deliveries",
  description: "The newest 100, each with every attempt (status, time, error).",
  ...MANAGE,
  request: { params: EndpointParam },
  responses: { 200: jsonContent(z.object({ deliveries: z.array(DeliverySchema) }), "The deliveries."), ...notFoundEndpoint },
});
webhooks.openapi(deliveriesRoute, async (c) => {
  const endpoint = await findEndpoint(c.env.DB, c.req.valid("param").id);
  if (!endpoint) throw notFound("Webhook endpoint");
  const { deliveries, attempts } = await deliveriesOfEndpoint(c.env.DB, endpoint.id);
  return c.json({ deliveries: deliveries.map((d) => deliveryResponse(d, attempts)) }, 200);
});

const resendRoute = createRoute({
  method: "post",
  path: "/{id}/deliveries/{deliveryId}/resend",
  summary: "Send a delivery again",
  description: "Now, with the same `webhook-id` (a receiver that has it already can skip it) and a fresh retry budget.",
  ...MANAGE,
  request: {
    params: EndpointParam.extend({ deliveryId: z.string().openapi({ param: { name: "deliveryId", in: "path" } }) }),
  },
  responses: { 202: jsonContent(DeliverySchema, "Queued."), ...ERRORS, 404: errorResponse("No such delivery of this endpoint.") },
});
webhooks.openapi(resendRoute, async (c) => {
  const { id, deliveryId } = c.req.valid("param");
  const row = await resendDelivery(c.env.DB, id, deliveryId, Date.now());
  if (!row) throw notFound("Webhook delivery");
  await enqueueDeliveries(c.env, [row.id]);
  return c.json(deliveryResponse(row, []), 202);
});

const sameEndpoint: SameShape<z.infer<typeof EndpointSchema>, WebhookEndpointResponse> = true;
const sameCreated: SameShape<z.infer<typeof CreatedSchema>, WebhookEndpointCreated> = true;
const sameDelivery: SameShape<z.infer<typeof DeliverySchema>, WebhookDeliveryResponse> = true;
const sameList: SameShape<{ endpoints: z.infer<typeof EndpointSchema>[] }, WebhookEndpointListResponse> = true;
const sameDeliveries: SameShape<{ deliveries: z.infer<typeof DeliverySchema>[] }, WebhookDeliveryListResponse> = true;
void [sameEndpoint, sameCreated, sameDelivery, sameList, sameDeliveries];

/** The checks kept from before the schema, with their codes and sentences (the URL rules above all). */
function checkEndpoint(body: unknown, c: Context<AppEnv>): { url: string; events: WebhookEventType[] } {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new ApiError(400, "invalid_json", "The body must be JSON: {url, events}.");
  const raw = body as { url?: unknown; events?: unknown };
  const checked = checkEndpointUrl(raw.url, c.env.DEV_AUTH === "true");
  if (!checked.ok) throw new ApiError(400, "invalid_url", checked.message);
  const events = raw.events;
  if (!Array.isArray(events) || events.length === 0 || !events.every(isWebhookEvent))
    throw new ApiError(400, "invalid_events", `events must be a non-empty list of: ${WEBHOOK_EVENTS.join(", ")}.`);
  return { url: checked.url, events: events as WebhookEventType[] };
}

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
