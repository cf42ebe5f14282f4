import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import { signedInUser, type AppEnv } from "../http/auth.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { jsonBodyLimit } from "../http/body-limit.ts";
import { ERRORS, SECURITY, errorResponse, openApiRoutes, rejectInput, type SameShape } from "../http/openapi.ts";
import { findVideo } from "../db/videos.ts";
import { viewerGrant } from "../delivery/viewer-access.ts";
import {
  MAX_ERROR_CHARS,
  MAX_REBUFFER_COUNT,
  MAX_SESSION_MS,
  MAX_STARTUP_MS,
  PLAYBACK_EVENT_MAX_BYTES,
  PLAYBACK_EVENT_TYPES,
  validatePlaybackEvent,
} from "../../../contract/playback-events.ts";
import type { PlaybackEvent } from "../../../contract/playback-events.ts";
import { VIDEO_ID_SOURCE } from "../../../contract/video.ts";
import { recordPlayback } from "../qoe/record.ts";

/**
 * POST /api/playback-events: a player's beacon (contract §3.1). No account needed: viewers of a
 * public video are mostly signed out. `navigator.sendBeacon` sends its JSON as text/plain (a simple
 * request, no CORS preflight), so the body is parsed as JSON whatever its Content-Type, and checked
 * by the contract's validator (the web app's beacon uses the same one); the schema below documents
 * it and checks it again for application/json bodies.
 */
export const playbackEvents = openApiRoutes();

// "≤ 4 KB": refused with 413 before anything parses it.
playbackEvents.use("*", jsonBodyLimit(PLAYBACK_EVENT_MAX_BYTES));

const count = (max: number) => z.number().int().min(0).max(max).optional();
const PlaybackEventSchema = z
  .strictObject({
    videoId: z.string().regex(new RegExp(`^${VIDEO_ID_SOURCE}$`)),
    sessionId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,64}$/)
      .openapi({ description: "One per playback session, made by the player." }),
    type: z.enum(PLAYBACK_EVENT_TYPES),
    startupMs: count(MAX_STARTUP_MS),
    rebufferCount: count(MAX_REBUFFER_COUNT),
    rebufferMs: count(MAX_SESSION_MS),
    watchedMs: count(MAX_SESSION_MS),
    tier: z
      .string()
      .regex(/^[1-9][0-9]{1,3}p$/)
      .optional()
      .openapi({ example: "480p" }),
    error: z.string().max(MAX_ERROR_CHARS).optional(),
  })
  .openapi("PlaybackEvent");

/** The contract's check, with its sentence for the first field that is not valid. */
function checkEvent(body: unknown) {
  const check = validatePlaybackEvent(body);
  if (!check.ok) throw new ApiError(400, "invalid_event", check.message);
  return check.event;
}

/** Any Content-Type: the body must parse as JSON (sendBeacon's text/plain included). */
const parsesAsJson = createMiddleware<AppEnv>(async (c, next) => {
  try {
    JSON.parse(await c.req.text());
  } catch {
    throw new ApiError(400, "invalid_json", "The body must be a JSON playback event.");
  }
  await next();
});

const beaconRoute = createRoute({
  method: "post",
  path: "/",
  summary: "A player's playback beacon",
  description: `No account needed for a video the sender may watch. The body is at most ${PLAYBACK_EVENT_MAX_BYTES} bytes of JSON, sent as application/json or as text/plain (navigator.sendBeacon). Pass the share token as \`?share=\` for a video opened with a share link.`,
  security: SECURITY.optional,
  middleware: [parsesAsJson] as const,
  request: {
    query: z.object({ share: z.string().optional() }),
    // Not required: a text/plain beacon skips the schema (its JSON is checked by the handler).
    body: {
      required: false,
      content: { "application/json": { schema: PlaybackEventSchema }, "text/plain": { schema: PlaybackEventSchema } },
    },
  },
  responses: {
    204: { description: "Recorded." },
    400: ERRORS[400],
    401: ERRORS[401],
    404: ERRORS[404],
    413: errorResponse("The body is larger than 4 KB."),
    429: errorResponse("This session sends events too fast, or has sent all it may."),
  },
});

playbackEvents.openapi(
  beaconRoute,
  async (c) => {
    const event = checkEvent(JSON.parse(await c.req.text()));
    // "Video viewable by the sender": the owner or an admin, or anyone who may watch it (a public
    // playable video, or a private one opened with a share link: the player sends `?share=` along).
    const user = signedInUser(c);
    const row = await findVideo(c.env.DB, event.videoId);
    const mine = row && user && (user.id === row.ownerId || user.role === "admin");
    if (!row || !(mine || (await viewerGrant(c.env, row, c.req.valid("query").share)))) throw notFound();

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
  },
  rejectInput(checkEvent),
);

const sameEvent: SameShape<z.infer<typeof PlaybackEventSchema>, PlaybackEvent> = true;
void sameEvent;
