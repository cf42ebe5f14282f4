/**
 * Pure rules of the viewer side (no browser): which page a path is, which pages ask for a sign-in,
 * and how a share token travels from the page URL to the API.
 */
import type { StringKey } from "./strings.ts";

export type Route =
  | { page: "watch"; id: string }
  | { page: "embed"; id: string }
  | { page: "upload" }
  | { page: "videos" }
  | { page: "admin" }
  | { page: "notFound" };

export function matchRoute(path: string): Route {
  const video = /^\/(watch|embed)\/([^/]+)\/?$/.exec(path);
  if (video) return { page: video[1] as "watch" | "embed", id: decodeURIComponent(video[2]) };
  if (path === "/" || path === "/upload") return { page: "upload" };
  if (path === "/videos") return { page: "videos" };
  if (path === "/admin") return { page: "admin" };
  return { page: "notFound" };
}

/** "Sign-in is asked only for uploading, "My videos" and admin": watching and embedding never ask. */
export const needsSignIn = (route: Route): boolean => route.page !== "watch" && route.page !== "embed";

/**
 * The `?u=<upload link>` of the upload page opened by another app (a direct creator upload): the
 * link when it is a tus endpoint of this very site carrying a link token, else null — the page
 * never sends a file anywhere else.
 */
export function directUploadParam(search: string, origin: string): string | null {
  const raw = new URLSearchParams(search).get("u");
  if (!raw) return null;
  try {
    const url = new URL(raw, origin);
    if (url.origin !== origin || url.pathname !== "/api/video/uploads" || !url.searchParams.get("direct")) return null;
    return url.toString();
  } catch {
    return null;
  }
}

/** The `?share=<token>` of a private video's share link, from the page's query string. */
export function shareParam(search: string): string | null {
  const token = new URLSearchParams(search).get("share");
  return token ? token : null;
}

/** An API or page path with the share token added to its query (unchanged without one). */
export function withShare(path: string, share: string | null): string {
  if (!share) return path;
  return `${path}${path.includes("?") ? "&" : "?"}share=${encodeURIComponent(share)}`;
}

/** The watch page of a video (absolute when `origin` is given), carrying a share token if any. */
export const watchUrl = (id: string, share: string | null = null, origin = ""): string =>
  withShare(`${origin}/watch/${encodeURIComponent(id)}`, share);

/** How long a private video's share link works: the owner's choices (`expiresInSec`). */
export const SHARE_EXPIRIES: readonly { label: StringKey; seconds: number }[] = [
  { label: "share.day1", seconds: 86_400 },
  { label: "share.days7", seconds: 7 * 86_400 },
  { label: "share.days30", seconds: 30 * 86_400 },
];
