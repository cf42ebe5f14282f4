import { Hono } from "hono";
import { signedInUser, type AppEnv } from "../http/auth.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { jsonBodyLimit } from "../http/body-limit.ts";
import { findVideo } from "../db/videos.ts";
import { viewerGrant } from "../delivery/viewer-access.ts";
import { PLAYBACK_EVENT_MAX_BYTES, validatePlaybackEvent } from "../../../contract/playback-events.ts";
import { recordPlayback } from "../qoe/record.ts";

/**
 * POST /api/playback-events: a player's beacon (contract §3.1). No account needed: viewers of a
 * public video are mostly signed out. `navigator.sendBeacon` sends its JSON as text/plain (a simple
 * request, no CORS preflight), so the body is parsed as JSON whatever its Content-Type.
 */
export const playbackEvents = new Hono<AppEnv>();

// "≤ 4 KB": refused with 413 before anything parses it.
playbackEvents.use("*", jsonBodyLimit(PLAYBACK_EVENT_MAX_BYTES));

playbackEvents.post("/", async (c) => {
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "The body must be a JSON playback event.");
  }
  const check = validatePlaybackEvent(body);
  if (!check.ok) throw new ApiError(400, "invalid_event", check.message);
  const event = check.event;
  // "Video viewable by the sender": the owner or an admin, or anyone who may watch it (a public
  // playable video, or a private one opened with a share link: the player sends `?share=` along).
  const user = signedInUser(c);
  const row = await findVideo(c.env.DB, event.videoId);
  const mine = row && user && (user.id === row.ownerId || user.role === "admin");
  if (!row || !(mine || (await viewerGrant(c.env, row, c.req.query("share"))))) throw notFound();

  const country = (c.req.raw.cf as { country?: string } | undefined)?.country;
  const outcome = await recordPlayback(c.env, event, country && /^[A-Z]{2}$/.test(country) ? country : "XX", Date.now());
  if (outcome !== "recorded") {
    throw new ApiError(
      429,
      "too_many_events",
      outcome === "capped"
        ? "This playback session has sent all the events it may; start a new session."
        : "This playback session sends events too fast; send one about every 30 seconds.",
    );
  }
  // Metered like every request; an accepted beacon is billed to its video (app.ts).
  c.set("meteredVideo", event.videoId);
  return c.body(null, 204);
});
