import type { Media, MediaBody, MultipartUpload, StoredObject, UploadedPart } from "./media.ts";
import { concatBytes } from "../tus/part-layout.ts";

/**
 * The in-memory twin of the Media port, for tests. It keeps R2's rules that the code depends on —
 * list order and pages, the multipart rules (every part but the last the same size and at least
 * 5 MiB, the last not larger, parts named by their ETags, an upload completed or aborted once) —
 * and is held to them by the same contract suite as the R2 adapter.
 */

/** R2's smallest size for every part but the last. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
const LIST_LIMIT = 1000;

interface Entry {
  bytes: Uint8Array;
  etag: string;
  contentType: string | null;
  customMetadata: Record<string, string>;
}

interface OpenUpload {
  key: string;
  state: "open" | "completed" | "aborted";
  parts: Map<number, { etag: string; bytes: Uint8Array }>;
  customMetadata: Record<string, string>;
}

export function memoryMedia(): Media {
  const objects = new Map<string, Entry>();
  const uploads = new Map<string, OpenUpload>();
  let serial = 0;
  const nextEtag = () => (++serial).toString(16).padStart(32, "0");

  const facts = (key: string, entry: Entry): StoredObject => ({
    key,
    size: entry.bytes.length,
    httpEtag: `"${entry.etag}"`,
    contentType: entry.contentType,
    customMetadata: { ...entry.customMetadata },
  });

  const openUpload = (key: string, uploadId: string, operation: string): OpenUpload => {
    const upload = uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new Error(`${operation}: the multipart upload ${uploadId} does not exist.`);
    return upload;
  };

  const handle = (key: string, uploadId: string): MultipartUpload => ({
    key,
    uploadId,
    async uploadPart(partNumber, bytes) {
      const upload = openUpload(key, uploadId, "uploadPart");
      if (upload.state !== "open") throw new Error(`uploadPart: the multipart upload ${uploadId} is ${upload.state}.`);
      const etag = nextEtag();
      upload.parts.set(partNumber, { etag, bytes: bytes.slice() });
      return { partNumber, etag };
    },
    async complete(selected) {
      const upload = openUpload(key, uploadId, "complete");
      if (upload.state !== "open") throw new Error(`complete: the multipart upload ${uploadId} is ${upload.state}.`);
      const parts = checkParts(upload, selected);
      const entry: Entry = {
        bytes: concatBytes(parts.map((p) => p.bytes)),
        etag: `${nextEtag()}-${parts.length}`,
        contentType: null,
        customMetadata: upload.customMetadata,
      };
      objects.set(key, entry);
      upload.state = "completed";
      upload.parts.clear();
      return facts(key, entry);
    },
    async abort() {
      const upload = openUpload(key, uploadId, "abort");
      if (upload.state !== "open") return;
      upload.state = "aborted";
      upload.parts.clear();
    },
  });

  return {
    async get(key, range) {
      const entry = objects.get(key);
      if (!entry) return null;
      const offset = range ? Math.min(range.offset, entry.bytes.length) : 0;
      const end = range?.length === undefined ? entry.bytes.length : Math.min(entry.bytes.length, offset + range.length);
      const bytes = entry.bytes.slice(offset, end);
      const body: MediaBody = {
        ...facts(key, entry),
        body: new Blob([bytes]).stream(),
        range: range ? { offset, length: bytes.length } : null,
      };
      return body;
    },
    async head(key) {
      const entry = objects.get(key);
      return entry ? facts(key, entry) : null;
    },
    async put(key, body, options = {}) {
      const bytes =
        typeof body === "string"
          ? new TextEncoder().encode(body)
          : body instanceof ReadableStream
            ? new Uint8Array(await new Response(body).arrayBuffer())
            : new Uint8Array(body).slice();
      objects.set(key, { bytes, etag: nextEtag(), contentType: options.contentType ?? null, customMetadata: {} });
    },
    async delete(keys) {
      for (const key of keys) objects.delete(key);
    },
    async list(prefix, options = {}) {
      const limit = options.limit ?? LIST_LIMIT;
      const after = options.cursor ?? "";
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, limit);
      return { keys: page, cursor: keys.length > limit ? page[page.length - 1] : null };
    },
    async createMultipart(key, options = {}) {
      const uploadId = crypto.randomUUID();
      uploads.set(uploadId, { key, state: "open", parts: new Map(), customMetadata: { ...options.customMetadata } });
      return handle(key, uploadId);
    },
    resumeMultipart: (key, uploadId) => handle(key, uploadId),
  };
}

/** R2's rules for the parts named in a complete; returns them in part-number order. */
function checkParts(upload: OpenUpload, selected: UploadedPart[]): { bytes: Uint8Array }[] {
  const numbers = new Set(selected.map((p) => p.partNumber));
  if (numbers.size !== selected.length) throw new Error("complete: a part number is named twice.");
  const parts = selected.map((p) => {
    const part = upload.parts.get(p.partNumber);
    if (part?.etag !== p.etag) throw new Error(`complete: part ${p.partNumber} was not uploaded with that ETag.`);
    return { number: p.partNumber, bytes: part.bytes };
  });
  if (parts.slice(0, -1).some((p) => p.bytes.length < MIN_PART_BYTES)) {
    throw new Error("complete: every part but the last must be at least 5 MiB.");
  }
  parts.sort((a, b) => a.number - b.number);
  const size = parts.length > 1 ? parts[0].bytes.length : undefined;
  if (size !== undefined) {
    if (parts.slice(0, -1).some((p) => p.bytes.length !== size || p.bytes.length < MIN_PART_BYTES)) {
      throw new Error("complete: every part but the last must have the same size.");
    }
    if (parts[parts.length - 1].bytes.length > size) throw new Error("complete: the last part may not be larger than the others.");
  }
  return parts;
}
