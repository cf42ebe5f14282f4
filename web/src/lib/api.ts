/** The Worker's JSON API with the session's bearer token. */
import type {
  BudgetSettings,
  CostEstimateResponse,
  CostsResponse,
  DevLoginResponse,
  ErrorResponse,
  JobInfo,
  PlaybackResponse,
  ShareResponse,
  VideoListResponse,
  VideoResponse,
  ViewerCardResponse,
} from "../../../contract/api.ts";
import { StatusError } from "../../../contract/errors.ts";
import { withShare } from "./viewer.ts";

export type { BudgetSettings, CostEstimateResponse, CostsResponse, JobInfo, PlaybackResponse, ShareResponse, VideoResponse };

/** What a viewer who is not the owner gets for a public video, or one opened through a share link. */
export type ViewerCard = ViewerCardResponse;

/** The details as the owner (and admins) see them, or a viewer's card. */
export type VideoCard = VideoResponse | ViewerCard;

/** The owner's (or an admin's) details: only they carry the state sentence and the source fields. */
export const isFullCard = (v: VideoCard): v is VideoResponse => "message" in v && "sourceBytes" in v;

/** An answer of the API that is not a success: its status, `error` code and sentence. */
export class ApiError extends StatusError {}

/** Called on a 401 so the app can return to the sign-in screen. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export async function request<T>(token: string | null, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new ApiError(0, "network", navigator.onLine ? "The server could not be reached." : "You are offline.");
  }
  if (res.status === 204) return undefined as T;
  const data = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const err = (data ?? {}) as Partial<ErrorResponse>;
    if (res.status === 401 && token) onUnauthorized();
    throw new ApiError(res.status, err.error ?? `http_${res.status}`, err.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

export const api = {
  devLogin: (userId: string, role: "creator" | "admin") => request<DevLoginResponse>(null, "POST", "/api/auth/dev-login", { userId, role }),
  /** One page of videos (newest first); pass the previous page's `nextCursor` for the next one. */
  videos: (token: string, cursor: string | null = null) => request<VideoListResponse>(token, "GET", listPath("", cursor)),
  /** Admin: a page of every video with its job bookkeeping (attempts, priority, last error). */
  jobs: (token: string, cursor: string | null = null) => request<VideoListResponse>(token, "GET", listPath("include=job&", cursor)),
  /** Signed out (no token) for a public video; `share` is the token of a share link. */
  video: (token: string | null, id: string, share: string | null = null) =>
    request<VideoCard>(token, "GET", withShare(`/api/videos/${encodeURIComponent(id)}`, share)),
  updateVideo: (token: string, id: string, patch: { title?: string; visibility?: "public" | "private"; downloadable?: boolean }) =>
    request<VideoResponse>(token, "PATCH", `/api/videos/${encodeURIComponent(id)}`, patch),
  deleteVideo: (token: string, id: string) => request<void>(token, "DELETE", `/api/videos/${encodeURIComponent(id)}`),
  playback: (token: string | null, id: string, share: string | null = null) =>
    request<PlaybackResponse>(token, "GET", withShare(`/api/videos/${encodeURIComponent(id)}/playback`, share)),
  /** Owner: a share link of a private video that works for `expiresInSec`. */
  share: (token: string, id: string, expiresInSec: number) =>
    request<ShareResponse>(token, "POST", `/api/videos/${encodeURIComponent(id)}/share`, { expiresInSec }),
  /** Owner: revokes every share link and signed playback URL of the video at once (204). */
  revokeLinks: (token: string, id: string) => request<void>(token, "DELETE", `/api/videos/${encodeURIComponent(id)}/share`),
  cancel: (token: string, id: string) => request<VideoResponse>(token, "POST", `/api/videos/${encodeURIComponent(id)}/cancel`),
  retry: (token: string, id: string) => request<VideoResponse>(token, "POST", `/api/videos/${encodeURIComponent(id)}/retry`),
  prioritize: (token: string, id: string) => request<VideoResponse>(token, "POST", `/api/videos/${encodeURIComponent(id)}/priority`),
  budget: (token: string) => request<BudgetSettings>(token, "GET", "/api/admin/budget"),
  putBudget: (token: string, patch: Partial<BudgetSettings>) => request<BudgetSettings>(token, "PUT", "/api/admin/budget", patch),
  costs: (token: string, month: string) => request<CostsResponse>(token, "GET", `/api/admin/costs?month=${encodeURIComponent(month)}`),
  estimate: (token: string, activeUsers: number) =>
    request<CostEstimateResponse>(token, "GET", `/api/admin/costs/estimate?activeUsers=${activeUsers}`),
};

/** The largest page the list API gives. */
const PAGE_LIMIT = 100;
const listPath = (query: string, cursor: string | null) =>
  `/api/videos?${query}limit=${PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;

/**
 * Follows `nextCursor` from the first page: up to `maxPages` pages (all by default). `more` says
 * whether pages are left.
 */
export async function loadPages(
  page: (cursor: string | null) => Promise<VideoListResponse>,
  maxPages = Infinity,
): Promise<{ videos: VideoListResponse["videos"]; more: boolean }> {
  const videos: VideoListResponse["videos"] = [];
  let cursor: string | null = null;
  for (let n = 0; n < maxPages; n++) {
    const res = await page(cursor);
    videos.push(...res.videos);
    cursor = res.nextCursor;
    if (!cursor) return { videos, more: false };
  }
  return { videos, more: true };
}

/** States in which a video will not change by itself any more. */
export const isSettled = (v: Pick<VideoResponse, "status">) => v.status === "READY" || v.status === "FAILED" || v.status === "CANCELLED";
