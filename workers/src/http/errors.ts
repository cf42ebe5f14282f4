import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { TUS_VERSION, TusError } from "../tus/protocol.ts";
import type { ErrorResponse } from "../../../contract/api.ts";

/** An API failure with a machine code and a sentence for people: `{"error": code, "message": sentence}`. */
export class ApiError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(status, { message });
  }
}

export const notFound = (what = "Video") => new ApiError(404, "not_found", `${what} not found.`);

const isTusPath = (path: string) => path.startsWith("/api/video/uploads");

/** The one error handler: tus routes answer in tus's plain text, everything else in JSON. */
export function renderError(err: Error, c: Context): Response {
  const status = err instanceof HTTPException || err instanceof TusError ? err.status : 500;
  const code =
    err instanceof ApiError ? err.code : err instanceof TusError ? err.code.toLowerCase() : status === 500 ? "internal" : "http_error";
  const message =
    status === 500 && !(err instanceof HTTPException)
      ? "Something went wrong on our side; nothing you sent was lost. Try again."
      : err.message;
  if (status >= 500) console.error(`${c.req.method} ${c.req.path}:`, err);
  if (isTusPath(c.req.path)) {
    return new Response(message, {
      status,
      headers: { "Tus-Resumable": TUS_VERSION, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" },
    });
  }
  return c.json<ErrorResponse>({ error: code, message }, status as ContentfulStatusCode);
}
