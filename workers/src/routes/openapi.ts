import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/auth.ts";
import { ERRORS, SECURITY, errorResponse } from "../http/openapi.ts";
import { VideoIdParam } from "../http/video-schemas.ts";
import { DIRECT_UPLOAD_PARAM } from "../../../contract/direct-uploads.ts";

/**
 * GET /api/openapi.json: OpenAPI 3.1 of the public API. The JSON routes document themselves (their
 * `createRoute` definitions, merged by `app.route`); the routes that are not JSON — tus, the HLS
 * delivery, downloads and the viewer pages — are described here, as they are: their handlers keep
 * their own protocols. The transcoder's /internal/* routes and the scheduled handler are not
 * public and are left out on purpose.
 */
export function documentApi(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "bearerJwt", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "A user's token: HS256 from the dev login, or the identity provider's (JWKS). Operations with `x-required-role: admin` need the admin role (403 otherwise); the others act on the caller's own videos (404 for anyone else's).",
  });
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "evk_…",
    description:
      "A server API key, sent as `Authorization: Bearer evk_…`. It may call only the operations that name the scope it needs in `x-required-scope` (and GET /api/openapi.json); every other route refuses it with 403.",
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/api/openapi.json",
    summary: "This document",
    description: "Any user token or API key.",
    security: SECURITY.userOrKey,
    responses: {
      200: { description: "OpenAPI 3.1.", content: { "application/json": { schema: z.object({ openapi: z.string() }).passthrough() } } },
      401: ERRORS[401],
    },
  });
  describeTus(app);
  describeDelivery(app);
  describePages(app);
  // Generated once per isolate (and origin, which it names as the server): the routes never change at run time.
  let cached: { origin: string; json: string } | undefined;
  app.get("/api/openapi.json", (c) => {
    const origin = new URL(c.req.url).origin;
    if (cached?.origin !== origin) cached = { origin, json: JSON.stringify(app.getOpenAPI31Document(documentInfo(origin))) };
    return c.body(cached.json, 200, { "Content-Type": "application/json; charset=UTF-8" });
  });
}

const documentInfo = (origin: string) => ({
  openapi: "3.1.0",
  info: {
    title: "Edge video API",
    version: "1.0.0",
    description:
      'Every error is JSON `{"error": code, "message": sentence}`, except on the tus routes (plain text, as tus has it). Routes under /internal are the transcoder\'s and are not part of this API.',
  },
  servers: [{ url: origin }],
});

const text = (description: string, type = "text/plain") => ({ description, content: { [type]: { schema: z.string() } } });
const header = (name: string, description: string, required = false) => ({
  name,
  in: "header" as const,
  required,
  description,
  schema: { type: "string" as const },
});
const tusFailure = (description: string) => text(`${description} (tus: a plain-text sentence).`);
const TUS_RESUMABLE = header("Tus-Resumable", "1.0.0 on every request but OPTIONS; another version is 412.", true);
const UPLOAD_ID = {
  name: "id",
  in: "path" as const,
  required: true,
  schema: { type: "string" as const },
  description: "The upload id, which is the video id.",
};
const TUS_SECURITY = [...SECURITY.user, {}];
const TUS_AUTH = `A user token, or none with a direct upload link (\`?${DIRECT_UPLOAD_PARAM}=…\` from POST /api/direct-uploads).`;

/** tus 1.0.0 (creation, creation-with-upload, termination, checksum, expiration). */
function describeTus(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  const tags = ["uploads (tus)"];
  for (const path of ["/api/video/uploads", "/api/video/uploads/{id}"]) {
    r.registerPath({
      method: "options",
      path,
      tags,
      summary: "tus discovery",
      description: "No credentials. Answers Tus-Version, Tus-Extension, Tus-Max-Size and Tus-Checksum-Algorithm.",
      security: [],
      ...(path.endsWith("{id}") ? { request: { params: z.object({ id: z.string() }) } } : {}),
      responses: { 204: { description: "The server's tus capabilities, in headers." } },
    });
  }
  r.registerPath({
    method: "post",
    path: "/api/video/uploads",
    tags,
    summary: "Create an upload (tus creation)",
    description: `${TUS_AUTH} The upload id in Location is the video id. Upload-Metadata keys: filename, filetype, optional title.`,
    security: TUS_SECURITY,
    parameters: [
      TUS_RESUMABLE,
      header("Upload-Length", "The size in bytes, at most Tus-Max-Size (or the direct link's maxBytes)."),
      header("Upload-Defer-Length", "1 when the size is not known yet."),
      header("Upload-Metadata", "tus metadata: filename, filetype and, optionally, title (base64 values).", true),
      { name: DIRECT_UPLOAD_PARAM, in: "query", required: false, schema: { type: "string" }, description: "A direct upload link's token." },
    ],
    request: {
      body: { required: false, content: { "application/offset+octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    responses: {
      201: { description: "Created; Location is the upload URL (Upload-Offset when the request carried data)." },
      400: tusFailure("Bad headers or metadata"),
      401: tusFailure("No valid credentials"),
      410: tusFailure("The direct upload link expired or was used"),
      412: tusFailure("Unsupported Tus-Resumable"),
      413: tusFailure("Larger than allowed"),
    },
  });
  r.registerPath({
    method: "head",
    path: "/api/video/uploads/{id}",
    tags,
    summary: "The upload's offset (tus)",
    description: `${TUS_AUTH} Another user's upload is 404.`,
    security: TUS_SECURITY,
    parameters: [UPLOAD_ID, TUS_RESUMABLE],
    responses: {
      200: { description: "Upload-Offset, Upload-Length (or Upload-Defer-Length), Upload-Expires, Upload-Metadata." },
      404: { description: "No such upload (no body: HEAD)." },
    },
  });
  r.registerPath({
    method: "patch",
    path: "/api/video/uploads/{id}",
    tags,
    summary: "Append bytes (tus)",
    description: TUS_AUTH,
    security: TUS_SECURITY,
    parameters: [
      UPLOAD_ID,
      TUS_RESUMABLE,
      header("Upload-Offset", "Where these bytes go: the upload's current offset.", true),
      header("Upload-Checksum", "Optional: `sha1 <base64>` or `sha256 <base64>` of this request's bytes."),
      header("Upload-Length", "The size, when it was deferred."),
    ],
    request: {
      body: { required: true, content: { "application/offset+octet-stream": { schema: z.string().openapi({ format: "binary" }) } } },
    },
    responses: {
      204: { description: "Stored; Upload-Offset is the new offset." },
      400: tusFailure("Bad headers"),
      404: tusFailure("No such upload"),
      409: tusFailure("Upload-Offset is not the upload's offset"),
      415: tusFailure("Content-Type is not application/offset+octet-stream"),
      460: tusFailure("Checksum mismatch"),
    },
  });
  r.registerPath({
    method: "delete",
    path: "/api/video/uploads/{id}",
    tags,
    summary: "Abandon an upload (tus termination)",
    description: "The uploader only.",
    security: SECURITY.user,
    parameters: [UPLOAD_ID, TUS_RESUMABLE],
    responses: { 204: { description: "Terminated." }, 404: tusFailure("No such upload") },
  });
}

const FILE = { name: "file", in: "path" as const, required: true, schema: { type: "string" as const } };
const TOKEN = {
  name: "token",
  in: "path" as const,
  required: true,
  schema: { type: "string" as const },
  description: "A signed playback (or download) token.",
};
const binary = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: z.string().openapi({ format: "binary" }) } },
});
const DELIVERY_FAILURES = {
  403: ERRORS[403],
  404: errorResponse("Not such a file, or the video is not servable."),
  416: { description: "Range not satisfiable." },
};
const RANGE = [header("Range", "Optional: bytes=start-end."), header("If-None-Match", "Optional: the ETag you have (304).")];

/** HLS delivery and downloads: files of a video's outputs, public or under a signed token. */
function describeDelivery(app: OpenAPIHono<AppEnv>): void {
  const r = app.openAPIRegistry;
  const tags = ["delivery"];
  const files: [string, string, string][] = [
    ["index.m3u8", "application/vnd.apple.mpegurl", "The master playlist."],
    ["poster.jpg", "image/jpeg", "The poster frame."],
    ["storyboard.vtt", "text/vtt", "WebVTT cues pointing into storyboard.jpg#xywh=x,y,w,h."],
    ["storyboard.jpg", "image/jpeg", "The storyboard sprite."],
  ];
  for (const [prefix, params, who] of [
    ["/videos/{id}", [], "A public video that is servable; a private one is 403."],
    ["/videos/{id}/p/{token}", [TOKEN], "A private video, with a signed token (GET /api/videos/{id}/playback gives it)."],
  ] as const) {
    const common = { tags, security: [], request: { params: VideoIdParam } };
    for (const [file, type, summary] of files) {
      r.registerPath({
        method: "get",
        path: `${prefix}/${file}`,
        ...common,
        summary,
        description: `${who} Header X-Cache: HIT|MISS.`,
        parameters: [...params, ...RANGE],
        responses: {
          200: binary(type, summary),
          206: { description: "A range." },
          304: { description: "Not modified." },
          ...DELIVERY_FAILURES,
        },
      });
    }
    r.registerPath({
      method: "get",
      path: `${prefix}/{file}`,
      ...common,
      summary: "A variant playlist or a segment",
      description: `${who} Variant playlists (\`<tier>/index.m3u8\`), init and media segments, as named by the master playlist. Header X-Cache: HIT|MISS.`,
      parameters: [...params, FILE, ...RANGE],
      responses: {
        200: binary("application/octet-stream", "The file (its own Content-Type)."),
        206: { description: "A range." },
        ...DELIVERY_FAILURES,
      },
    });
    r.registerPath({
      method: "get",
      path: `${prefix}/download.mp4`,
      ...common,
      summary: "Download the video",
      description:
        "One MP4 of the top tier, faststart, with Content-Disposition: attachment and Range support. Public downloadable videos at /videos/{id}/download.mp4; the owner (or a private downloadable video) through the card's downloadUrl.",
      parameters: [...params, header("Range", "Optional: bytes=start-end.")],
      responses: {
        200: binary("video/mp4", "The MP4."),
        206: { description: "A range." },
        404: DELIVERY_FAILURES[404],
        416: DELIVERY_FAILURES[416],
      },
    });
  }
}

/** The web app's pages with the video's link preview tags. */
function describePages(app: OpenAPIHono<AppEnv>): void {
  const query = z.object({ share: z.string().optional().openapi({ description: "A share link's token." }) });
  for (const [page, summary] of [
    [
      "watch",
      "The watch page: og:title, og:image, og:type video.other, og:url, twitter:card and the oEmbed link are in its HTML before any script runs.",
    ],
    ["embed", "A bare player page for an <iframe> on other sites."],
  ] as const) {
    app.openAPIRegistry.registerPath({
      method: "get",
      path: `/${page}/{id}`,
      tags: ["pages"],
      summary,
      security: [],
      request: { params: VideoIdParam, query },
      responses: { 200: text("The page (the web app's shell; preview tags when the caller may watch).", "text/html") },
    });
  }
}
