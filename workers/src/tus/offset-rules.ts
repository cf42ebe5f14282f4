/**
 * tus 1.0.0 — the rules an upload's state sets for a request: who may touch it, whether it expired,
 * and the offset and length rules of a PATCH. Pure: the upload's facts and the request in, a
 * verdict out; the UploadSession stores what they decide.
 * Quoted sentences are from https://tus.io/protocols/resumable-upload (protocol.md).
 */
import type { ParsedChecksum, TusErrorCode } from "./protocol.ts";

export type SessionResult<T> = { ok: true; value: T } | { ok: false; code: TusErrorCode; detail?: string };

export const fail = (code: TusErrorCode, detail?: string) => ({ ok: false, code, detail }) as const;
export const ok = <T>(value: T) => ({ ok: true, value }) as const;

export type UploadState = "receiving" | "finalizing" | "complete" | "expired" | "terminated";

/** What the rules need to know about an upload. */
export interface UploadFacts {
  ownerId: string;
  state: UploadState;
  /** Bytes stored and counted so far. */
  offset: number;
  /** null while the length is deferred. */
  length: number | null;
  maxBytes: number;
  expiresAt: number;
}

export interface PatchRequest {
  ownerId: string;
  offset: number;
  /** Upload-Length sent with a PATCH of a deferred-length upload. */
  length: number | null;
  /** Content-Length when the client sent one. */
  contentLength: number | null;
  checksum: ParsedChecksum | null;
}

/**
 * Whether `ownerId` may use the upload. With `allowExpired` (termination), an expired upload still
 * answers; a terminated one never does.
 */
export function checkAccess<U extends UploadFacts>(
  upload: U | null,
  ownerId: string,
  now: number,
  opts: { allowExpired?: boolean } = {},
): SessionResult<U> {
  // "If the server receives a PATCH request against a non-existent resource it SHOULD return a 404
  // Not Found status." Another user's upload answers exactly like a missing one.
  if (!upload || upload.ownerId !== ownerId || upload.state === "terminated") return fail("UPLOAD_NOT_FOUND");
  if (opts.allowExpired) return ok(upload);
  // "If a Client does attempt to resume an upload which has since been removed by the Server, the
  // Server SHOULD respond with the 404 Not Found or 410 Gone status. The latter one SHOULD be used if
  // the Server is keeping track of expired uploads." A receiving upload past its time is expired
  // already, before the sweep has freed it.
  if (upload.state === "expired" || (upload.state === "receiving" && upload.expiresAt <= now)) return fail("UPLOAD_EXPIRED");
  return ok(upload);
}

/**
 * The rules a running PATCH cannot change the answer to (it only moves the offset up): checked
 * before that PATCH is stopped, so a request that cannot be right never disturbs it. An offset past
 * the committed one names bytes nobody was told were stored, so it is wrong whatever the running
 * PATCH still reads.
 */
export function precheckPatch(upload: UploadFacts, request: PatchRequest): SessionResult<null> {
  if (request.length !== null) {
    // "Once set the length MUST NOT be changed."
    if (upload.length !== null && upload.length !== request.length) return fail("LENGTH_ALREADY_SET");
    if (request.length === 0) return fail("EMPTY_UPLOAD");
    // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size
    // header, the Server MUST respond with the 413 Request Entity Too Large status."
    if (request.length > upload.maxBytes) return fail("TOO_LARGE");
  }
  // "If the offsets do not match, the Server MUST respond with the 409 Conflict status without
  // modifying the upload resource." The offset only grows, so one ahead of it can never match.
  if (request.offset > upload.offset) return fail("OFFSET_MISMATCH");
  const limit = request.length ?? upload.length ?? upload.maxBytes;
  if (request.contentLength !== null && request.offset + request.contentLength > limit) {
    return fail((request.length ?? upload.length) ? "BODY_PAST_LENGTH" : "TOO_LARGE");
  }
  return ok(null);
}

/**
 * Every offset and length rule of a PATCH, once it is the only one. The value is the length this
 * PATCH declares for a deferred-length upload (to be stored), or null.
 */
export function checkPatch(upload: UploadFacts, request: PatchRequest): SessionResult<number | null> {
  const possible = precheckPatch(upload, request);
  if (!possible.ok) return possible;
  if (request.length !== null && request.length < upload.offset) return fail("LENGTH_BELOW_OFFSET");
  // "The Upload-Offset header's value MUST be equal to the current offset of the resource. … If the
  // offsets do not match, the Server MUST respond with the 409 Conflict status without modifying the
  // upload resource."
  if (request.offset !== upload.offset) return fail("OFFSET_MISMATCH");
  // "Once it is known the Client MUST set the Upload-Length header in the next PATCH request."
  return ok(request.length !== null && upload.length === null ? request.length : null);
}
