/**
 * Webhooks: what the admin API answers about endpoints and deliveries, and what a receiver gets.
 * Every POST carries the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`), so a receiver verifies it with the `standardwebhooks` package and the
 * endpoint's `whsec_…` secret.
 */
import type { BudgetSettings, VideoResponse } from "./api.ts";

export const WEBHOOK_EVENTS = [
  "video.uploaded",
  "video.playable",
  "video.ready",
  "video.failed",
  "video.deleted",
  "budget.held",
  "budget.alert",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const isWebhookEvent = (value: unknown): value is WebhookEventType =>
  typeof value === "string" && (WEBHOOK_EVENTS as readonly string[]).includes(value);

/** The budget's state when an alert is raised (`budget.alert`). */
export interface BudgetAlertData extends BudgetSettings {
  alert: { kind: "daily_spike" | "budget_reached"; day: string; message: string; usd: number; previousUsd: number | null };
}

/**
 * The body of every delivery: `timestamp` is when the event happened (ISO 8601). `data` is the video
 * as `GET /api/videos/:id` shows it to its owner for `video.*` and `budget.held` (the held video,
 * its `message` saying why), the budget's state for `budget.alert`.
 */
export type WebhookPayload =
  | { type: Exclude<WebhookEventType, "budget.alert">; timestamp: string; data: VideoResponse }
  | { type: "budget.alert"; timestamp: string; data: BudgetAlertData };

export interface WebhookEndpointRequest {
  url: string;
  events: WebhookEventType[];
}

export interface WebhookEndpointResponse {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: string;
}

/** `POST /api/admin/webhooks` answers the secret, once. */
export interface WebhookEndpointCreated extends WebhookEndpointResponse {
  secret: string;
}

export interface WebhookEndpointListResponse {
  endpoints: WebhookEndpointResponse[];
}

export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

export interface WebhookAttemptResponse {
  attempt: number;
  at: string;
  /** The receiver's HTTP status; null when it did not answer (refused, timed out). */
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryResponse {
  /** The `webhook-id` header of every attempt. */
  id: string;
  type: WebhookEventType;
  videoId: string | null;
  status: WebhookDeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  /** When the next attempt is due while pending. */
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  attemptLog: WebhookAttemptResponse[];
}

export interface WebhookDeliveryListResponse {
  deliveries: WebhookDeliveryResponse[];
}
