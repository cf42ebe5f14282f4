import { sqliteTable, text, integer, real, index, primaryKey, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { Rendition } from "../../../contract/transcode.ts";
import { VIDEO_STATUSES, VISIBILITIES } from "../../../contract/video.ts";

export { VIDEO_STATUSES, VISIBILITIES };
export type { VideoStatus, Visibility } from "../../../contract/video.ts";

/**
 * One row per video. The upload id is the video id, so the row is created with the upload
 * (UPLOADING) and follows the video through transcoding to READY.
 */
export const videos = sqliteTable(
  "videos",
  {
    id: text("id").primaryKey(),
    ownerId: text("owner_id").notNull(),
    title: text("title").notNull(),
    filename: text("filename").notNull(),
    filetype: text("filetype").notNull(),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull().default("public"),
    /** Signed playback URLs and share links carry it; bumping it (visibility change, revoke) voids them all at once. */
    playbackVersion: integer("playback_version").notNull().default(0),
    status: text("status", { enum: VIDEO_STATUSES }).notNull(),
    /** A sentence for the creator about the current state. */
    message: text("message").notNull().default(""),
    /** 0–100. */
    progress: integer("progress").notNull().default(0),
    playable: integer("playable", { mode: "boolean" }).notNull().default(false),
    durationSec: real("duration_sec"),
    renditions: text("renditions", { mode: "json" }).$type<Rendition[]>().notNull().default([]),
    /** The current run's result said storyboard.jpg and storyboard.vtt were uploaded. */
    hasStoryboard: integer("has_storyboard", { mode: "boolean" }).notNull().default(false),
    /** The current run's result said download.mp4 was uploaded (videos made before MP4 downloads have none). */
    hasDownload: integer("has_download", { mode: "boolean" }).notNull().default(false),
    /** Declared length; null while the client defers it. */
    sourceBytes: integer("source_bytes"),
    /** Bytes the upload session holds so far (R2 parts + buffered tail), kept while UPLOADING: storage of unfinished uploads is billed too. */
    receivedBytes: integer("received_bytes").notNull().default(0),
    sourceSha256: text("source_sha256"),
    /** Failure reason when FAILED. */
    error: text("error"),
    /**
     * Job bookkeeping (transcoding). `attempts` is the retry budget used in the current round (an
     * admin's retry starts a new round at 0); `run` numbers every run ever started and only grows, so
     * a run id (tokens, cache keys, metering keys, output paths) is never reused.
     */
    attempts: integer("attempts").notNull().default(0),
    run: integer("run").notNull().default(0),
    leaseExpiresAt: integer("lease_expires_at"),
    /** A QUEUED job is not dispatched before this time (retry backoff). */
    nextAttemptAt: integer("next_attempt_at"),
    /** Why the last attempt failed, while the job is retried. */
    lastError: text("last_error"),
    /** Higher first; an admin's "make it next" sets it above every other job. */
    priority: integer("priority").notNull().default(0),
    /** When the upload completed, the video became playable, and the encode took (metrics, costs). */
    uploadedAt: integer("uploaded_at"),
    playableAt: integer("playable_at"),
    encodeSeconds: real("encode_seconds"),
    /** Bytes of the HLS outputs in R2 (set at READY), and when the source left R2: storage over time. */
    outputBytes: integer("output_bytes").notNull().default(0),
    sourceDeletedAt: integer("source_deleted_at"),
    uploadExpiresAt: integer("upload_expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    readyAt: integer("ready_at"),
    // --- MP4 download ---
    /** Anyone who may watch the video may also download its MP4 (the owner always may). */
    downloadable: integer("downloadable", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    index("videos_owner_created").on(t.ownerId, t.createdAt),
    index("videos_status").on(t.status, t.uploadExpiresAt),
    index("videos_queue").on(t.status, t.priority, t.createdAt),
    // Pagination (newest first, id as tie-breaker) and per-user quotas of open uploads.
    index("videos_created_id").on(t.createdAt, t.id),
    index("videos_owner_status").on(t.ownerId, t.status),
  ],
);

export type VideoRow = typeof videos.$inferSelect;

/**
 * Metered usage: one counter per UTC day, video ('' when no video is involved) and kind of cost.
 * Counters are only ever incremented; one-off events carry a key in `usage_events` so a redelivered
 * message or a repeated report never counts twice.
 */
export const usage = sqliteTable(
  "usage",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    kind: text("kind").notNull(),
    quantity: real("quantity").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.videoId, t.kind] })],
);

export const usageEvents = sqliteTable("usage_events", {
  key: text("key").primaryKey(),
  at: integer("at").notNull(),
});

/** The ledger: the daily roll-up of usage into dollars, per video, with a breakdown by kind. */
export const costDaily = sqliteTable(
  "cost_daily",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    usd: real("usd").notNull(),
    breakdown: text("breakdown", { mode: "json" }).$type<Record<string, number>>().notNull(),
    rolledUpAt: integer("rolled_up_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.videoId] })],
);

/** Alerts raised (spike, budget reached): at most one per day and kind. */
export const costAlerts = sqliteTable(
  "cost_alerts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    day: text("day").notNull(),
    kind: text("kind").notNull(),
    message: text("message").notNull(),
    usd: real("usd").notNull(),
    previousUsd: real("previous_usd"),
    delivered: integer("delivered", { mode: "boolean" }).notNull().default(false),
    deliveryAttempts: integer("delivery_attempts").notNull().default(0),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("cost_alerts_day_kind").on(t.day, t.kind)],
);

/** Who changed the budget settings, when, from what to what. */
export const budgetChanges = sqliteTable("budget_changes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  at: integer("at").notNull(),
  adminId: text("admin_id").notNull(),
  before: text("before", { mode: "json" }).notNull(),
  after: text("after", { mode: "json" }).notNull(),
});

/**
 * The month-to-date spend the budget gate reads, one row per UTC month (YYYY-MM): metered usage
 * priced when it is recorded (in the same batch as its `usage` rows), plus the storage of each day
 * of the month as of that day's latest roll-up (a re-run replaces its share, never adds it twice).
 */
export const spendRunning = sqliteTable("spend_running", {
  month: text("month").primaryKey(),
  usd: real("usd").notNull().default(0),
});

/**
 * Playback (views and quality): one row per viewing session (a page view of one video), holding the
 * highest cumulative totals its beacons reported. A repeated or late beacon is compared with it, so
 * only what is new reaches the daily aggregates below: the same beacon twice counts once.
 */
export const playbackSessions = sqliteTable(
  "playback_sessions",
  {
    videoId: text("video_id").notNull(),
    sessionId: text("session_id").notNull(),
    /** ISO country code of the first beacon ("XX" when unknown). */
    country: text("country").notNull(),
    /** Beacons accepted; a session is capped (flood), beyond the cap nothing changes. */
    events: integer("events").notNull().default(0),
    started: integer("started", { mode: "boolean" }).notNull().default(false),
    ended: integer("ended", { mode: "boolean" }).notNull().default(false),
    errored: integer("errored", { mode: "boolean" }).notNull().default(false),
    startupMs: integer("startup_ms"),
    watchedMs: integer("watched_ms").notNull().default(0),
    rebufferMs: integer("rebuffer_ms").notNull().default(0),
    rebufferCount: integer("rebuffer_count").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.videoId, t.sessionId] }), index("playback_sessions_updated").on(t.updatedAt)],
);

/** Per video and UTC day: views, watch and rebuffer time, errors. */
export const playbackDaily = sqliteTable(
  "playback_daily",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    views: integer("views").notNull().default(0),
    watchMs: integer("watch_ms").notNull().default(0),
    rebufferCount: integer("rebuffer_count").notNull().default(0),
    rebufferMs: integer("rebuffer_ms").notNull().default(0),
    errors: integer("errors").notNull().default(0),
  },
  // By video too: the list of a creator's videos sums each one's all-time views.
  (t) => [primaryKey({ columns: [t.day, t.videoId] }), index("playback_daily_day").on(t.day), index("playback_daily_video").on(t.videoId)],
);

/** Per video, UTC day and country: views. */
export const playbackCountryDaily = sqliteTable(
  "playback_country_daily",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    country: text("country").notNull(),
    views: integer("views").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.videoId, t.country] }), index("playback_country_daily_day").on(t.day)],
);

/** Per video, UTC day and country: the startup-time histogram, from which p50/p95 come. */
export const playbackStartupDaily = sqliteTable(
  "playback_startup_daily",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    country: text("country").notNull(),
    /** The bucket's upper edge in ms (STARTUP_BUCKETS_MS). */
    bucket: integer("bucket").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.videoId, t.country, t.bucket] }), index("playback_startup_daily_day").on(t.day)],
);

/** Per video, UTC day and tier: time watched. */
export const playbackTierDaily = sqliteTable(
  "playback_tier_daily",
  {
    day: text("day").notNull(),
    videoId: text("video_id").notNull(),
    tier: text("tier").notNull(),
    watchMs: integer("watch_ms").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.day, t.videoId, t.tier] }), index("playback_tier_daily_day").on(t.day)],
);

// ---- API keys (server keys of the social app's backend) ----

/**
 * One row per server API key. Only the SHA-256 of the key is kept (the key itself is shown once,
 * when it is made); requests find their key by that hash. A revoked key keeps its row (revokedAt
 * set) so what it did stays attributable, but is refused from the next request on.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    /** JSON array of scopes (contract/scopes.ts). */
    scopes: text("scopes").notNull(),
    /** Hex SHA-256 of the whole key. */
    keyHash: text("key_hash").notNull(),
    /** The first characters of the key ("evk_" + 4), so people can tell their keys apart; not a secret. */
    hint: text("hint").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: integer("created_at").notNull(),
    /** Written at most once a minute per key (API_KEY_TOUCH_INTERVAL_MS). */
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_key_hash").on(t.keyHash)],
);
export type ApiKeyRow = typeof apiKeys.$inferSelect;

// ---- Direct creator uploads ----------------------------------------------------------------------

/**
 * An upload link a server made for one creator (POST /api/direct-uploads). `video_id` is the id the
 * upload will have; `used_at` is set by the one creation the link allows. The caps travel with the
 * upload: `max_bytes` to the upload session, `max_duration_sec` to the transcoder's probe.
 */
export const directUploads = sqliteTable("direct_uploads", {
  videoId: text("video_id").primaryKey(),
  creatorId: text("creator_id").notNull(),
  maxBytes: integer("max_bytes").notNull(),
  maxDurationSec: real("max_duration_sec"),
  title: text("title"),
  visibility: text("visibility", { enum: VISIBILITIES }),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
  usedAt: integer("used_at"),
});
export type DirectUploadRow = typeof directUploads.$inferSelect;

// ---------------------------------------------------------------------------------------------
// Webhooks: endpoints the social app registers, one delivery per (event, endpoint), every attempt.

/** A receiver: where events are POSTed, which events it wants, and the secret they are signed with. */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  /** JSON array of event types. */
  events: text("events").notNull(),
  /** `whsec_<base64>`: needed to sign every attempt, so stored as given (shown to the admin once). */
  secret: text("secret").notNull(),
  createdBy: text("created_by").notNull(),
  createdAt: integer("created_at").notNull(),
});

/**
 * One event for one endpoint: the source of truth of its delivery (the queue message carries only
 * the id). `id` is the `webhook-id` of every attempt, so a receiver dedupes retries and resends.
 */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** Insertion order: with `eventAt`, the order a video's deliveries must arrive in. */
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    endpointId: text("endpoint_id").notNull(),
    type: text("type").notNull(),
    /** The video the event is about ('' for budget alerts): deliveries of one video go out in order. */
    videoId: text("video_id").notNull().default(""),
    /** The exact body every attempt sends (signed as is). */
    payload: text("payload").notNull(),
    eventAt: integer("event_at").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] })
      .notNull()
      .default("pending"),
    /** Attempts made in all (the log's length). */
    attempts: integer("attempts").notNull().default(0),
    /** Attempts of the current round (a resend starts a new one with a fresh retry budget). */
    roundAttempts: integer("round_attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    lastAttemptAt: integer("last_attempt_at"),
    deliveredAt: integer("delivered_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_id").on(t.id),
    index("webhook_deliveries_endpoint").on(t.endpointId, t.seq),
    index("webhook_deliveries_pending").on(t.status, t.nextAttemptAt),
  ],
);

/** Every attempt of a delivery: when, the HTTP status (null when no answer), the error, how long it took. */
export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
    statusCode: integer("status_code"),
    error: text("error"),
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })],
);
