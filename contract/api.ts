/**
 * JSON shapes of the public API, shared by the Worker and the web app.
 */
import type { DownloadFields } from "./downloads.ts";
import type { PlaybackTotals } from "./playback-events.ts";
import type { VideoStatus, Visibility } from "./video.ts";

export type { VideoStatus, Visibility };

export interface RenditionSummary {
  name: string;
  width: number;
  height: number;
  bandwidth: number;
}

export interface VideoResponse extends DownloadFields {
  id: string;
  ownerId: string;
  title: string;
  visibility: Visibility;
  status: VideoStatus;
  /** A sentence for the creator about the current state. */
  message: string;
  progress: number;
  playable: boolean;
  hlsUrl: string | null;
  posterUrl: string | null;
  /** WebVTT of the seek thumbnails (cues pointing into `storyboard.jpg#xywh=x,y,w,h`); null until it exists. */
  storyboardUrl: string | null;
  durationSec: number | null;
  renditions: RenditionSummary[];
  sourceBytes: number | null;
  sourceSha256: string | null;
  error: string | null;
  createdAt: string;
  readyAt: string | null;
}

/**
 * GET /api/videos/:id (and `?share=<token>`) for anyone but the owner or an admin, signed in or not:
 * a public video that is playable, or one opened with a valid share link. The owner's fields about
 * the source, failures and the job are left out.
 */
export type ViewerCardResponse = Omit<VideoResponse, "sourceBytes" | "sourceSha256" | "error" | "message">;

/** POST /api/videos/:id/share (owner): a link that plays without an account until it expires. */
export interface ShareRequest {
  /** 60 s to 30 days. */
  expiresInSec: number;
}

/** 201 from POST /api/videos/:id/share. */
export interface ShareResponse {
  /** Absolute watch URL, `/watch/<id>?share=<token>`; DELETE /api/videos/:id/share voids every one. */
  url: string;
}

/** GET /oembed?url=<watch URL>&format=json (oEmbed 1.0, type "video"). */
export interface OEmbedResponse {
  version: "1.0";
  type: "video";
  title: string;
  provider_name: string;
  /** An <iframe> of /embed/:id. */
  html: string;
  width: number;
  height: number;
  thumbnail_url: string;
  thumbnail_width: number;
  thumbnail_height: number;
}

/** GET /api/videos?limit=N&cursor=C: one page, newest first. */
export interface VideoListResponse {
  /** Each with its all-time views and watch time (the list only: one query for the page). */
  videos: (VideoResponse & PlaybackTotals & { job?: JobInfo })[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** GET /api/videos/:id/playback (and `?share=<token>`) */
export interface PlaybackResponse {
  /** Absolute URL of the master playlist; for a private video it carries a signed, expiring token in its path. */
  url: string;
}

/** GET|PUT /api/admin/budget (KV). */
export interface BudgetSettings {
  monthlyCapUsd: number;
  transcodingEnabled: boolean;
  spikeThresholdPct: number;
}

/** Job bookkeeping, added to each video by `GET /api/videos?include=job` for admins (the job table). */
export interface JobInfo {
  attempts: number;
  priority: number;
  lastError: string | null;
  /** What an admin may ask of the video now (the server's lifecycle decides; the web app only shows it). */
  actions: { cancel: boolean; retry: boolean; prioritize: boolean };
}

/** GET /api/admin/costs?month=YYYY-MM */
export interface CostsResponse {
  month: string;
  monthToDateUsd: number;
  capUsd: number;
  days: { date: string; usd: number; breakdown: Record<string, number> }[];
  videos: { id: string; usd: number }[];
  /**
   * The month's container compute as billed: vCPU-seconds of CPU actually used, GiB-seconds of the
   * instances' provisioned memory while they ran, and their dollars (also in the days' breakdowns).
   */
  compute: { vcpuSeconds: number; gibSeconds: number; usd: number };
  alerts: { day: string; kind: string; message: string; usd: number; previousUsd: number | null; delivered: boolean; createdAt: number }[];
}

/** GET /api/admin/costs/estimate?activeUsers=N */
export interface CostEstimateResponse {
  formula: string;
  params: { activeUsers: number; videosPerUserPerMonth: number; mbPerVideo: number; outputFactor: number; usdPerGbMonth: number };
  estimateUsd: number;
  metered: { monthToDateUsd: number; projectedMonthUsd: number };
}

export interface ErrorResponse {
  error: string;
  message: string;
}

export interface DevLoginRequest {
  userId: string;
  role: "creator" | "admin";
}

export interface DevLoginResponse {
  token: string;
}

/**
 * GET /api/videos/:id/stats?days=N (owner, admin) and GET /api/admin/qoe?days=N (all videos): views
 * and playback quality over the last N UTC days (today included), from the players' beacons.
 */
export interface PlaybackStatsResponse {
  /** Sessions that started playing (a session counts once however often its beacon arrives). */
  views: number;
  watchSeconds: number;
  /**
   * Startup time percentiles, from a histogram with fixed bucket edges: the upper edge of the bucket
   * the percentile falls in (an upper bound). Null without any measured start.
   */
  startupMsP50: number | null;
  startupMsP95: number | null;
  /** Time spent rebuffering / (time watched + time rebuffering); 0 without any watching. */
  rebufferRatio: number;
  /** Every day of the range, oldest first, zero when nothing was watched. */
  byDay: { date: string; views: number; watchSeconds: number }[];
  /** Most views first; "XX" when the country is unknown. */
  byCountry: { country: string; views: number; startupMsP50: number | null }[];
  /** Most seconds first. */
  byTier: { tier: string; seconds: number }[];
}
