/**
 * The Media port: every storage operation the code needs on the media bucket (sources and outputs),
 * and nothing else. `r2Media` is the real adapter over an R2 binding; `memoryMedia`
 * (memory-media.ts) is the in-memory twin. One contract suite (workers/test/media-contract.test.ts)
 * holds both to the same rules.
 */

/** What storage knows about an object, without its bytes. */
export interface StoredObject {
  key: string;
  /** The whole object's size, also when only a range was read. */
  size: number;
  /** The ETag as HTTP sends it (quoted). */
  httpEtag: string;
  contentType: string | null;
  customMetadata: Record<string, string>;
}

/** An object being read: its facts and a stream of its bytes (of the range, when one was asked for). */
export interface MediaBody extends StoredObject {
  body: ReadableStream<Uint8Array>;
  /** The range the body holds, when the read asked for one. */
  range: { offset: number; length: number } | null;
}

/** Bytes from `offset`, `length` of them (or to the end). */
export interface ByteRange {
  offset: number;
  length?: number;
}

/**
 * A put's body. A stream must have a known length (a request body with Content-Length, a
 * FixedLengthStream): R2 refuses a stream it cannot size.
 */
export type MediaPutBody = ReadableStream<Uint8Array> | ArrayBuffer | Uint8Array | string;

export interface MediaPage {
  keys: string[];
  /** Pass back to read the next page; null when this was the last. */
  cursor: string | null;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/**
 * A multipart upload. Every part but the last must have the same size, at least 5 MiB, and the last
 * may not be larger than the others: `complete` refuses anything else.
 */
export interface MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  uploadPart(partNumber: number, bytes: Uint8Array): Promise<UploadedPart>;
  complete(parts: UploadedPart[]): Promise<StoredObject>;
  abort(): Promise<void>;
}

export interface Media {
  get(key: string, range?: ByteRange): Promise<MediaBody | null>;
  head(key: string): Promise<StoredObject | null>;
  put(key: string, body: MediaPutBody, options?: { contentType?: string }): Promise<void>;
  /** Deletes the keys (missing ones are not an error), however many there are. */
  delete(keys: string[]): Promise<void>;
  /** One page of the keys under `prefix`, in key order. */
  list(prefix: string, options?: { cursor?: string; limit?: number }): Promise<MediaPage>;
  createMultipart(key: string, options?: { customMetadata?: Record<string, string> }): Promise<MultipartUpload>;
  /** The upload `uploadId` of `key`, as created earlier (possibly by another instance). */
  resumeMultipart(key: string, uploadId: string): MultipartUpload;
}

/** R2 deletes at most 1000 keys per call. */
const DELETE_BATCH = 1000;

/** The Media port over an R2 bucket binding. */
export function r2Media(bucket: R2Bucket): Media {
  const multipart = (upload: R2MultipartUpload): MultipartUpload => ({
    key: upload.key,
    uploadId: upload.uploadId,
    uploadPart: async (partNumber, bytes) => {
      const part = await upload.uploadPart(partNumber, bytes);
      return { partNumber: part.partNumber, etag: part.etag };
    },
    complete: async (parts) => storedObject(await upload.complete(parts)),
    abort: () => upload.abort(),
  });
  return {
    async get(key, range) {
      const object = await bucket.get(key, range ? { range } : undefined);
      if (!object) return null;
      const read = range ? (object.range as { offset: number; length?: number } | undefined) : undefined;
      return {
        ...storedObject(object),
        body: object.body,
        range: range ? { offset: read?.offset ?? range.offset, length: read?.length ?? object.size - range.offset } : null,
      };
    },
    async head(key) {
      const object = await bucket.head(key);
      return object && storedObject(object);
    },
    async put(key, body, options = {}) {
      await bucket.put(key, body, options.contentType ? { httpMetadata: { contentType: options.contentType } } : undefined);
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += DELETE_BATCH) await bucket.delete(keys.slice(i, i + DELETE_BATCH));
    },
    async list(prefix, options = {}) {
      const page = await bucket.list({ prefix, cursor: options.cursor, limit: options.limit });
      return { keys: page.objects.map((o) => o.key), cursor: page.truncated ? page.cursor : null };
    },
    createMultipart: async (key, options = {}) => multipart(await bucket.createMultipartUpload(key, options)),
    resumeMultipart: (key, uploadId) => multipart(bucket.resumeMultipartUpload(key, uploadId)),
  };
}

function storedObject(object: R2Object): StoredObject {
  return {
    key: object.key,
    size: object.size,
    httpEtag: object.httpEtag,
    contentType: object.httpMetadata?.contentType ?? null,
    customMetadata: object.customMetadata ?? {},
  };
}

/**
 * For code not moved to the port yet (it still holds the R2 binding): the port either way.
 * A Media is told from an R2Bucket by its `resumeMultipart`.
 */
export function asMedia(storage: Media | R2Bucket): Media {
  return "resumeMultipart" in storage ? storage : r2Media(storage);
}
