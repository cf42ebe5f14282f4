import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors.ts";

/** The JSON bodies the API takes are small objects; a few KB is far more than any of them needs. */
export const JSON_BODY_LIMIT_BYTES = 16 * 1024;
/** A transcoder's result lists renditions and checksums: still small, but give it room. */
export const JOB_REPORT_LIMIT_BYTES = 64 * 1024;

/**
 * Refuses a body larger than `maxBytes` with 413 before anything parses it: by its Content-Length
 * when it has one, else while the chunked body is read (the read stops at the limit).
 */
export function jsonBodyLimit(maxBytes: number): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(413, "body_too_large", `The request body is larger than ${maxBytes / 1024} KB; send a smaller JSON object.`);
    },
  });
  return (c, next) => (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS" ? next() : limit(c, next));
}
