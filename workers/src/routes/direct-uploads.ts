import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireScope, type AppEnv } from "../http/auth.ts";
import { BODY_ERRORS, SECURITY, jsonBody, jsonContent, jsonRequest, openApiRoutes, rejectInput, type SameShape } from "../http/openapi.ts";
import { ApiError } from "../http/errors.ts";
import { VISIBILITIES, type Visibility } from "../db/schema.ts";
import { insertDirectUpload } from "../db/direct-uploads.ts";
import { newVideoId } from "../videos/ids.ts";
import { sanitizeText } from "../tus/protocol.ts";
import { signDirectUploadToken } from "../tus/direct-link.ts";
import { uploadLimits } from "../config.ts";
import {
  DIRECT_UPLOAD_DEFAULT_TTL_SEC,
  DIRECT_UPLOAD_MAX_DURATION_SEC,
  DIRECT_UPLOAD_MAX_TTL_SEC,
  DIRECT_UPLOAD_MIN_TTL_SEC,
  DIRECT_UPLOAD_PARAM,
  type DirectUploadResponse,
} from "../../../contract/direct-uploads.ts";

/**
 * Direct creator uploads: a server asks for a link through which one creator's client uploads one
 * video with plain tus and no credentials. Nothing is stored but the link until the upload starts;
 * the video (owned by the creator, under the creator's quota) is created by the tus creation.
 */
const BODY_ERROR = [
  "invalid_body",
  "Send a JSON object with creatorId and, optionally, maxBytes, maxDurationSec, expiresInSec, title and visibility.",
] as const;

export const directUploads = openApiRoutes();

const CREATOR_ID = /^[A-Za-z0-9_.@:|-]{1,128}$/;

const DirectUploadSchema = z
  .object({
    videoId: z.string(),
    uploadUrl: z.string().openapi({ description: "The tus endpoint for tus-js-client's `endpoint`, with no headers." }),
    expiresAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("DirectUpload");

const createLinkRoute = createRoute({
  method: "post",
  path: "/",
  summary: "Make a direct creator upload link",
  description:
    "A server asks for a link through which one creator's client uploads one video with plain tus and no credentials. Admins, or API keys with uploads:create.",
  security: SECURITY.userOrKey,
  "x-required-scope": "uploads:create",
  "x-required-role": "admin",
  middleware: [requireScope("uploads:create"), jsonBody({ body: BODY_ERROR })] as const,
  request: {
    body: jsonRequest(
      z
        .object({
          creatorId: z
            .string()
            .regex(/^\s*[A-Za-z0-9_.@:|-]{1,128}\s*$/)
            .openapi({ description: "The creator's user id: the video's owner." }),
          maxBytes: z.number().int().min(1).optional().openapi({ description: "At most the server's upload limit (its default)." }),
          maxDurationSec: z.number().gt(0).max(DIRECT_UPLOAD_MAX_DURATION_SEC).optional(),
          expiresInSec: z
            .number()
            .int()
            .min(DIRECT_UPLOAD_MIN_TTL_SEC)
            .max(DIRECT_UPLOAD_MAX_TTL_SEC)
            .optional()
            .openapi({ description: `Default ${DIRECT_UPLOAD_DEFAULT_TTL_SEC}.` }),
          title: z.string().optional(),
          visibility: z.enum(VISIBILITIES).optional(),
        })
        .openapi("DirectUploadRequest"),
    ),
  },
  responses: { 201: jsonContent(DirectUploadSchema, "The link."), ...BODY_ERRORS },
});

directUploads.openapi(
  createLinkRoute,
  async (c) => {
    const { creatorId, maxBytes, maxDurationSec, expiresInSec, title, visibility } = checkRequest(c.req.valid("json"), c);
    const now = Date.now();
    // Whole seconds: the token carries the expiry in seconds and must name the stored one exactly.
    const expSec = Math.floor(now / 1000) + expiresInSec;
    const videoId = newVideoId();
    await insertDirectUpload(c.env.DB, {
      videoId,
      creatorId,
      maxBytes,
      maxDurationSec,
      title,
      visibility,
      expiresAt: expSec * 1000,
      createdAt: now,
      usedAt: null,
    });
    const token = await signDirectUploadToken(c.env.JWT_SECRET, videoId, expSec);
    const uploadUrl = new URL("/api/video/uploads", c.req.url);
    uploadUrl.searchParams.set(DIRECT_UPLOAD_PARAM, token);
    return c.json({ videoId, uploadUrl: uploadUrl.toString(), expiresAt: new Date(expSec * 1000).toISOString() }, 201);
  },
  // The checks below name each field, with the server's own upload limit.
  rejectInput(checkRequest),
);

/** The request with its defaults, or the 400 naming the first field that is not valid. */
function checkRequest(input: unknown, c: Context<AppEnv>) {
  if (!input || typeof input !== "object" || Array.isArray(input)) throw new ApiError(400, BODY_ERROR[0], BODY_ERROR[1]);
  const body = input as Record<string, unknown>;
  const creatorId = typeof body.creatorId === "string" ? body.creatorId.trim() : "";
  if (!CREATOR_ID.test(creatorId)) {
    throw new ApiError(400, "invalid_creator", "creatorId must be the creator's user id: 1–128 letters, digits or . _ @ : | -.");
  }
  const limit = uploadLimits(c.env).maxBytes;
  const maxBytes = body.maxBytes ?? limit;
  if (typeof maxBytes !== "number" || !Number.isSafeInteger(maxBytes) || maxBytes < 1 || maxBytes > limit) {
    throw new ApiError(400, "invalid_max_bytes", `maxBytes must be a whole number of bytes from 1 to ${limit}.`);
  }
  const maxDurationSec = body.maxDurationSec ?? null;
  if (
    maxDurationSec !== null &&
    !(typeof maxDurationSec === "number" && maxDurationSec > 0 && maxDurationSec <= DIRECT_UPLOAD_MAX_DURATION_SEC)
  ) {
    throw new ApiError(
      400,
      "invalid_max_duration",
      `maxDurationSec must be a number of seconds above 0 and at most ${DIRECT_UPLOAD_MAX_DURATION_SEC}.`,
    );
  }
  const expiresInSec = body.expiresInSec ?? DIRECT_UPLOAD_DEFAULT_TTL_SEC;
  if (
    typeof expiresInSec !== "number" ||
    !Number.isSafeInteger(expiresInSec) ||
    expiresInSec < DIRECT_UPLOAD_MIN_TTL_SEC ||
    expiresInSec > DIRECT_UPLOAD_MAX_TTL_SEC
  ) {
    throw new ApiError(
      400,
      "invalid_expiry",
      `expiresInSec must be a whole number of seconds from ${DIRECT_UPLOAD_MIN_TTL_SEC} to ${DIRECT_UPLOAD_MAX_TTL_SEC} (7 days).`,
    );
  }
  let title: string | null = null;
  if (body.title !== undefined) {
    title = typeof body.title === "string" ? sanitizeText(body.title, 200) : "";
    if (!title) throw new ApiError(400, "invalid_title", "title must be a non-empty text of at most 200 characters.");
  }
  const visibility = (body.visibility ?? null) as Visibility | null;
  if (visibility !== null && !VISIBILITIES.includes(visibility)) {
    throw new ApiError(400, "invalid_visibility", "visibility must be 'public' or 'private'.");
  }
  return { creatorId, maxBytes, maxDurationSec: maxDurationSec as number | null, expiresInSec, title, visibility };
}

const sameAnswer: SameShape<z.infer<typeof DirectUploadSchema>, DirectUploadResponse> = true;
void sameAnswer;
