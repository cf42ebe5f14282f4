/**
 * Direct creator uploads: a server (the social app's backend) asks for an upload link for one
 * creator; the creator's client uploads through it with tus and no credentials of its own.
 */
import type { Visibility } from "./video.ts";

/** POST /api/direct-uploads (an API key with `uploads:create`, or an admin). */
export interface DirectUploadRequest {
  /** The user who will own the video. */
  creatorId: string;
  /** The largest file the link accepts, in bytes (default and maximum: the server's upload limit). */
  maxBytes?: number;
  /** The longest video accepted, in seconds; a longer one ends FAILED (checked before encoding). */
  maxDurationSec?: number;
  /** How long the link may start an upload (default DIRECT_UPLOAD_DEFAULT_TTL_SEC). */
  expiresInSec?: number;
  title?: string;
  visibility?: Visibility;
}

/** 201 answer: `uploadUrl` is a tus creation endpoint that needs no Authorization header. */
export interface DirectUploadResponse {
  /** The id the upload (and the video) will have. */
  videoId: string;
  uploadUrl: string;
  /** ISO 8601: after this, the link no longer starts an upload (410). */
  expiresAt: string;
}

export const DIRECT_UPLOAD_DEFAULT_TTL_SEC = 60 * 60;
export const DIRECT_UPLOAD_MIN_TTL_SEC = 60;
export const DIRECT_UPLOAD_MAX_TTL_SEC = 7 * 24 * 60 * 60;
/** A duration cap above a day is no cap worth the name. */
export const DIRECT_UPLOAD_MAX_DURATION_SEC = 24 * 60 * 60;

/** The query parameter of the upload URL (and of the Location it creates) that carries the link's token. */
export const DIRECT_UPLOAD_PARAM = "direct";
