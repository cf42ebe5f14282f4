/**
 * tus 1.0.0 — pure header parsing and validation, and the one table that maps every protocol
 * error to its status code and sentence. Nothing here touches storage or the network.
 * Quoted sentences are from https://tus.io/protocols/resumable-upload (protocol.md).
 */
import type { VideoMetadata } from "../../../contract/video.ts";

export type { VideoMetadata };

export const TUS_VERSION = "1.0.0";
export const TUS_EXTENSIONS = [
  "creation",
  "creation-with-upload",
  "creation-defer-length",
  "expiration",
  "checksum",
  "termination",
] as const;
export const OFFSET_CONTENT_TYPE = "application/offset+octet-stream";

/** Algorithms we verify, mapped to their WebCrypto names. "The Server MUST support at least the SHA1 checksum algorithm." */
export const CHECKSUM_ALGORITHMS = { sha1: "SHA-1", sha256: "SHA-256" } as const;
export type ChecksumAlgorithm = keyof typeof CHECKSUM_ALGORITHMS;

/** Headers the browser must be allowed to send and to read (CORS). */
export const TUS_REQUEST_HEADERS = [
  "Authorization",
  "Content-Type",
  "Tus-Resumable",
  "Upload-Length",
  "Upload-Defer-Length",
  "Upload-Offset",
  "Upload-Metadata",
  "Upload-Checksum",
  "Upload-Concat",
  "X-HTTP-Method-Override",
  "X-Requested-With",
];
export const TUS_EXPOSED_HEADERS = [
  "Upload-Offset",
  "Location",
  "Upload-Length",
  "Tus-Version",
  "Tus-Resumable",
  "Tus-Max-Size",
  "Tus-Extension",
  "Tus-Checksum-Algorithm",
  "Upload-Metadata",
  "Upload-Defer-Length",
  "Upload-Expires",
];

/** Every way a tus request can fail, with its status and the sentence the client gets. */
export const TUS_ERRORS = {
  UNSUPPORTED_VERSION: [412, "Unsupported tus version: this server speaks tus 1.0.0 (send Tus-Resumable: 1.0.0)."],
  UNAUTHENTICATED: [401, "Sign in first: the request needs Authorization: Bearer <token>."],
  UPLOAD_NOT_FOUND: [404, "Upload not found."],
  UPLOAD_EXPIRED: [410, "This upload expired before it was finished; start a new upload."],
  METHOD_NOT_ALLOWED: [405, "Use HEAD to read an upload's offset and PATCH to send bytes."],
  INVALID_CONTENT_TYPE: [415, `PATCH bodies must be sent with Content-Type: ${OFFSET_CONTENT_TYPE}.`],
  MISSING_OFFSET: [400, "Upload-Offset is required and must be a non-negative integer."],
  OFFSET_MISMATCH: [409, "Upload-Offset does not match the upload's current offset; ask with HEAD and resume from there."],
  MISSING_LENGTH: [400, "Send Upload-Length, or Upload-Defer-Length: 1 to declare the length later."],
  INVALID_LENGTH: [400, "Upload-Length must be a non-negative integer."],
  INVALID_DEFER_LENGTH: [400, "Upload-Defer-Length must be 1."],
  LENGTH_ALREADY_SET: [400, "Upload-Length is already set and cannot change."],
  LENGTH_BELOW_OFFSET: [400, "Upload-Length is smaller than the bytes already received."],
  EMPTY_UPLOAD: [400, "The file is empty (0 bytes), so it cannot be a video."],
  TOO_LARGE: [413, "The file is larger than the maximum upload size."],
  BODY_PAST_LENGTH: [413, "The request body goes past the upload's declared length."],
  INVALID_METADATA: [400, "Upload-Metadata is malformed."],
  UNSUPPORTED_CHECKSUM: [400, "Unsupported checksum algorithm: use sha1 or sha256."],
  INVALID_CHECKSUM: [400, "Upload-Checksum must be '<algorithm> <base64 digest>'."],
  CHECKSUM_MISMATCH: [460, "Checksum mismatch: the chunk was discarded; send it again."],
  // 403, not 429: waiting does not help, the user has to finish or delete an upload first.
  TOO_MANY_OPEN_UPLOADS: [403, "You have too many unfinished uploads; finish or delete one of them before starting another."],
  OPEN_UPLOAD_BYTES: [
    403,
    "Your unfinished uploads already hold as many bytes as allowed; finish or delete one of them before starting another.",
  ],
  // Direct upload links (POST /api/direct-uploads). 410, not 409, for a used link: tus clients retry
  // a 409 by themselves, and asking again can never make a used link fresh.
  UPLOAD_LINK_INVALID: [401, "This upload link is not valid; ask the app for a new one."],
  UPLOAD_LINK_EXPIRED: [410, "This upload link has expired; ask the app for a new one."],
  UPLOAD_LINK_USED: [410, "This upload link has already been used for an upload; ask the app for a new one."],
  STORAGE_FAILED: [503, "Storage is briefly unavailable; the bytes received so far are kept, retry shortly."],
} as const satisfies Record<string, readonly [number, string]>;
export type TusErrorCode = keyof typeof TUS_ERRORS;

export class TusError extends Error {
  readonly status: number;
  constructor(
    readonly code: TusErrorCode,
    detail?: string,
  ) {
    super(detail ?? TUS_ERRORS[code][1]);
    this.status = TUS_ERRORS[code][0];
  }
}

/** "The Server MUST … respond with the 412 Precondition Failed status … if the Client's version is not supported." */
export function assertTusVersion(header: string | null): void {
  if (header !== TUS_VERSION) throw new TusError("UNSUPPORTED_VERSION");
}

const NON_NEGATIVE_INTEGER = /^\d{1,16}$/;

/** Parses Upload-Offset / Upload-Length values: digits only, within the safe integer range. */
export function parseNonNegativeInteger(value: string | null): number | null {
  if (value === null || !NON_NEGATIVE_INTEGER.test(value.trim())) return null;
  const n = Number(value.trim());
  return Number.isSafeInteger(n) ? n : null;
}

export interface CreationLength {
  /** null when the client deferred the length. */
  length: number | null;
}

/**
 * Reads Upload-Length / Upload-Defer-Length of a creation request.
 * "If the length of the upload is not known … the Client MUST set Upload-Defer-Length: 1."
 */
export function parseCreationLength(uploadLength: string | null, deferLength: string | null, maxBytes: number): CreationLength {
  if (uploadLength !== null) {
    const length = parseNonNegativeInteger(uploadLength);
    if (length === null) throw new TusError("INVALID_LENGTH");
    if (length === 0) throw new TusError("EMPTY_UPLOAD");
    // "If the length of the upload exceeds the maximum, which MAY be specified using the Tus-Max-Size
    // header, the Server MUST respond with the 413 Request Entity Too Large status."
    if (length > maxBytes) throw new TusError("TOO_LARGE", tooLargeMessage(maxBytes));
    return { length };
  }
  if (deferLength !== null) {
    if (deferLength.trim() !== "1") throw new TusError("INVALID_DEFER_LENGTH");
    return { length: null };
  }
  throw new TusError("MISSING_LENGTH");
}

export function tooLargeMessage(maxBytes: number): string {
  // A direct upload link's cap may be far below a megabyte.
  const limit = maxBytes >= 1024 * 1024 ? `${Math.round(maxBytes / 1024 / 1024)} MB` : `${maxBytes}-byte`;
  return `The file is larger than the ${limit} upload limit.`;
}

/**
 * Upload-Metadata: "one or more comma-separated key-value pairs. The key and value MUST be separated by
 * a space. The key MUST NOT contain spaces and commas and MUST NOT be empty. The key SHOULD be ASCII
 * encoded and the value MUST be Base64 encoded. All keys MUST be unique. The value MAY be empty."
 */
export function parseMetadata(header: string | null): Map<string, string> {
  const pairs = new Map<string, string>();
  if (header === null || header.trim() === "") return pairs;
  if (header.length > 4096) throw new TusError("INVALID_METADATA", "Upload-Metadata is too long (4 KB at most).");
  for (const raw of header.split(",")) {
    const parts = raw.trim().split(" ");
    if (parts.length > 2) throw new TusError("INVALID_METADATA", "Upload-Metadata pairs must be '<key> <base64 value>'.");
    const [key, encoded = ""] = parts;
    if (!key || !/^[\x21-\x7e]+$/.test(key)) {
      throw new TusError("INVALID_METADATA", "Upload-Metadata keys must be non-empty ASCII without spaces.");
    }
    if (pairs.has(key)) throw new TusError("INVALID_METADATA", `Upload-Metadata key '${key}' appears twice.`);
    pairs.set(key, decodeBase64Utf8(encoded, key));
  }
  return pairs;
}

function decodeBase64Utf8(encoded: string, key: string): string {
  if (encoded === "") return "";
  const invalid = () => new TusError("INVALID_METADATA", `Upload-Metadata value of '${key}' is not valid Base64 UTF-8.`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 === 1) throw invalid();
  try {
    const binary = atob(encoded);
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid();
  }
}

/** Control characters and line/paragraph separators become spaces. */
const CONTROL_CHARS = /[\p{Cc}\u2028\u2029]/gu;
/**
 * Format characters (Unicode category Cf: zero-width spaces, bidi marks and overrides, BOM, soft
 * hyphen…) are invisible and can reorder or hide what a title says: they go. The two joiners (ZWNJ
 * U+200C, ZWJ U+200D) are kept only between two visible characters, where they shape Persian or
 * Indic words and emoji sequences (👨‍👩‍👧).
 */
const FORMAT_CHARS = /\p{Cf}/gu;
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * Strips control and format characters, markup-significant quotes and runs of white space, then
 * keeps at most `maxCodePoints` code points, cut between graphemes (never inside a surrogate pair or
 * an emoji sequence). A text made only of invisible characters becomes "" (no text).
 */
export function sanitizeText(value: string, maxCodePoints: number): string {
  const visible = value
    .replace(CONTROL_CHARS, " ")
    .replace(FORMAT_CHARS, (ch, at: number, all: string) => (isJoinerBetween(all, at) ? ch : ""))
    .replace(/["<>`]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  let out = "";
  let codePoints = 0;
  for (const { segment } of graphemes.segment(visible)) {
    const size = [...segment].length;
    if (codePoints + size > maxCodePoints) break;
    out += segment;
    codePoints += size;
  }
  return out.trim();
}

/** True when the joiner at `at` sits between two visible (non-space, non-format) characters. */
function isJoinerBetween(text: string, at: number): boolean {
  if (text[at] !== "\u200c" && text[at] !== "\u200d") return false;
  const before = String.fromCodePoint(text.codePointAt(at - 1 - (isLowSurrogate(text, at - 1) ? 1 : 0)) ?? 32);
  const after = String.fromCodePoint(text.codePointAt(at + 1) ?? 32);
  return /^[^\s\p{Cf}\p{Cc}]$/u.test(before) && /^[^\s\p{Cf}\p{Cc}]$/u.test(after);
}

const isLowSurrogate = (text: string, at: number) => at >= 0 && /[\udc00-\udfff]/.test(text[at] ?? "");

/** Validates and sanitizes the metadata keys the product uses: filename, filetype, optional title. */
export function videoMetadata(pairs: Map<string, string>): VideoMetadata {
  const rawName = pairs.get("filename") ?? pairs.get("name");
  if (!rawName) throw new TusError("INVALID_METADATA", "Upload-Metadata must include the file's name (key 'filename').");
  // A name is a name, not a path: keep what follows the last separator.
  const filename = sanitizeText(rawName.split(/[\\/]/).pop() ?? "", 255);
  if (!filename || filename === "." || filename === "..") {
    throw new TusError("INVALID_METADATA", "The file name is empty once control characters and path parts are removed.");
  }
  const filetype = (pairs.get("filetype") ?? pairs.get("type") ?? "").trim().toLowerCase() || "application/octet-stream";
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(filetype)) {
    throw new TusError("INVALID_METADATA", "filetype must be a media type such as video/mp4.");
  }
  // Browsers leave the type empty for some containers (mkv), so octet-stream passes; the transcoder's
  // probe is the real judge of whether the bytes are a video.
  if (!filetype.startsWith("video/") && filetype !== "application/octet-stream") {
    throw new TusError("INVALID_METADATA", `Only video files can be uploaded; this file is ${filetype}.`);
  }
  // No title, or one made only of invisible characters: the file's name without its extension.
  const title = sanitizeText(pairs.get("title") ?? "", 200) || sanitizeText(filename.replace(/\.[^.]{1,8}$/, ""), 200) || filename;
  return { filename, filetype, title };
}

export interface ParsedChecksum {
  algorithm: ChecksumAlgorithm;
  digest: Uint8Array;
}

/** Upload-Checksum: "the name of the used checksum algorithm and the Base64 encoded checksum separated by a space." */
export function parseChecksum(header: string | null): ParsedChecksum | null {
  if (header === null) return null;
  const [name, encoded, ...rest] = header.trim().split(" ");
  if (!name || !encoded || rest.length > 0) throw new TusError("INVALID_CHECKSUM");
  const algorithm = name.toLowerCase();
  // "The Server MUST respond with the 400 Bad Request status if the checksum algorithm is not supported."
  if (!(algorithm in CHECKSUM_ALGORITHMS)) throw new TusError("UNSUPPORTED_CHECKSUM");
  let digest: Uint8Array;
  try {
    digest = Uint8Array.from(atob(encoded), (ch) => ch.charCodeAt(0));
  } catch {
    throw new TusError("INVALID_CHECKSUM");
  }
  return { algorithm: algorithm as ChecksumAlgorithm, digest };
}

/** Upload-Expires: "in the Sun, 06 Nov 1994 08:49:37 GMT format" (RFC 9110 HTTP-date). */
export function httpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

/** Headers of the OPTIONS (discovery) response. */
export function discoveryHeaders(maxBytes: number): Record<string, string> {
  return {
    "Tus-Version": TUS_VERSION,
    "Tus-Extension": TUS_EXTENSIONS.join(","),
    "Tus-Max-Size": String(maxBytes),
    "Tus-Checksum-Algorithm": Object.keys(CHECKSUM_ALGORITHMS).join(","),
  };
}

/** X-HTTP-Method-Override: lets clients behind proxies that only pass GET/POST send PATCH, DELETE, HEAD. */
export function applyMethodOverride(request: Request): Request {
  const override = request.headers.get("X-HTTP-Method-Override")?.trim().toUpperCase();
  if (request.method !== "POST" || !override || !["PATCH", "DELETE", "HEAD"].includes(override)) return request;
  const keepsBody = override === "PATCH";
  return new Request(request.url, {
    method: override,
    headers: request.headers,
    body: keepsBody ? request.body : null,
    // Required by the runtime when forwarding a streamed body.
    ...(keepsBody ? { duplex: "half" } : {}),
  } as RequestInit);
}
