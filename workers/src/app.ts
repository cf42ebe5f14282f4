import { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import { optionalUser, requireUser, type AppEnv } from "./http/auth.ts";
import { isDirectUploadRequest, requireDirectUploadLink } from "./http/direct-upload-auth.ts";
import { ApiError, renderError } from "./http/errors.ts";
import { JOB_REPORT_LIMIT_BYTES, JSON_BODY_LIMIT_BYTES, jsonBodyLimit } from "./http/body-limit.ts";
import { TUS_EXPOSED_HEADERS, TUS_REQUEST_HEADERS } from "./tus/protocol.ts";
import { auth } from "./routes/auth.ts";
import { tusDiscovery, tusVersion, uploads } from "./routes/uploads.ts";
import { videos } from "./routes/videos.ts";
import { internal } from "./routes/internal.ts";
import { playback } from "./routes/playback.ts";
import { download } from "./routes/download.ts";
import { admin } from "./routes/admin.ts";
import { viewerPages } from "./routes/viewer-pages.ts";
import { oembed } from "./routes/oembed.ts";
import { playbackEvents } from "./routes/playback-events.ts";
import { stats } from "./routes/stats.ts";
import { apiKeys } from "./routes/api-keys.ts";
import { directUploads } from "./routes/direct-uploads.ts";
import { webhooks } from "./routes/webhooks.ts";
import { documentApi } from "./routes/openapi.ts";
import { rejectInput } from "./http/openapi.ts";
import { count, countersDue, flushCounters, pricesFrom } from "./costs/meter.ts";
import { videoIdInPath } from "./videos/ids.ts";

/** Middleware and route mounting; handlers live in routes/, one file per resource. */
export const app = new OpenAPIHono<AppEnv>({ defaultHook: rejectInput() });

// Metering: every request counts; it is attributed to the video in its path only when the route
// found that video and answered it (2xx/3xx). A 401/404 for a made-up id counts as "no video", so
// random ids never create cost rows of their own (nor does a page served without its video, which
// marks itself `unattributed`; a beacon names its video in the body, `meteredVideo`). Counts are
// flushed in the background.
app.use("*", async (c, next) => {
  await next();
  count(
    c.res.status < 400 && c.get("unattributed") !== true ? (c.get("meteredVideo") ?? videoIdInPath(c.req.path)) : null,
    "workers_requests",
  );
  if (countersDue()) c.executionCtx.waitUntil(flushCounters(c.env.DB, pricesFrom(c.env)));
});

// Tus discovery headers are added to OPTIONS answers, including the CORS preflight answered below.
app.use("/api/video/uploads/*", tusDiscovery);
app.use(
  "/api/*",
  cors({
    origin: "*", // Bearer tokens, never cookies: any origin may call, none gets ambient credentials.
    allowMethods: ["GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
    allowHeaders: TUS_REQUEST_HEADERS,
    exposeHeaders: TUS_EXPOSED_HEADERS,
    maxAge: 86_400,
  }),
);
app.use("/api/video/uploads/*", tusVersion);
// Every /api route needs a user, except the dev login and tus OPTIONS (discovery), the two a
// viewer calls signed out ("answer without a token ... for a public video that is playable") and
// the playback beacons a viewer's player sends.
const VIEWER_API = /^\/api\/videos\/[^/]+(\/playback)?$/;
app.use("/api/*", async (c, next) => {
  if (c.req.method === "OPTIONS" || c.req.path === "/api/auth/dev-login") return next();
  if ((c.req.method === "GET" || c.req.method === "HEAD") && VIEWER_API.test(c.req.path)) return optionalUser(c, next);
  if (c.req.method === "POST" && c.req.path === "/api/playback-events") return optionalUser(c, next);
  if (isDirectUploadRequest(c)) return requireDirectUploadLink(c, next);
  return requireUser(c, next);
});

// JSON routes refuse oversized bodies before parsing; tus bodies are the upload itself and stream.
const apiJsonLimit = jsonBodyLimit(JSON_BODY_LIMIT_BYTES);
app.use("/api/*", (c, next) => (c.req.path.startsWith("/api/video/uploads") ? next() : apiJsonLimit(c, next)));
app.use("/internal/jobs/:id/progress", jsonBodyLimit(JOB_REPORT_LIMIT_BYTES));
app.use("/internal/jobs/:id/result", jsonBodyLimit(JOB_REPORT_LIMIT_BYTES));

app.route("/api/auth", auth);
app.route("/api/video/uploads", uploads);
app.route("/api/videos", videos);
// Before the admin routes, whose admin-only guard would refuse an API key with webhooks:manage.
app.route("/api/admin/webhooks", webhooks);
app.route("/api/admin", admin);
app.route("/api/admin/api-keys", apiKeys);
app.route("/api/playback-events", playbackEvents);
app.route("/api/direct-uploads", directUploads);
app.route("/api", stats);
app.route("/internal", internal);
app.route("/videos", download);
app.route("/videos", playback);
app.route("/oembed", oembed);
app.route("/", viewerPages);
documentApi(app);

app.notFound((c) => renderError(new ApiError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`), c));
app.onError(renderError);
