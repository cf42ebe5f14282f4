import { DEFAULT_MAX_UPLOAD_BYTES } from "../../contract/video.ts";

/** Typed reads of the Worker's string vars, with the defaults the product documents. */

const positive = (value: string | undefined, fallback: number): number => {
  const n = Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

export interface UploadLimits {
  maxBytes: number;
  expiryMs: number;
  /** A PATCH body that sends nothing for this long ends (what arrived is kept). */
  idleTimeoutMs: number;
  /** Unfinished uploads one user may hold at once, and the bytes they declare together. */
  maxOpenUploads: number;
  maxOpenBytes: number;
}

export function uploadLimits(env: Env): UploadLimits {
  return {
    maxBytes: Math.floor(positive(env.MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES)),
    expiryMs: positive(env.UPLOAD_EXPIRY_HOURS, 48) * 3_600_000,
    idleTimeoutMs: positive(env.UPLOAD_IDLE_TIMEOUT_SECONDS, 30) * 1000,
    maxOpenUploads: Math.floor(positive(env.MAX_OPEN_UPLOADS_PER_USER, 10)),
    maxOpenBytes: Math.floor(positive(env.MAX_OPEN_UPLOAD_BYTES_PER_USER, 2 * 1024 ** 3)),
  };
}

export const devAuthEnabled = (env: Env): boolean => env.DEV_AUTH === "true";
