import type { SessionResult, UploadSession } from "./upload-session.ts";
import { count } from "../costs/meter.ts";

/**
 * The UploadSession of one upload: one Durable Object per video id. Each use is one billed DO
 * request, counted for that video.
 */
export function uploadSession(env: Env, videoId: string): DurableObjectStub<UploadSession> {
  count(videoId, "do_requests");
  return unmeteredUploadSession(env, videoId);
}

/**
 * For tus HEAD/PATCH, whose id comes straight from the client: whether the upload exists (and is
 * the caller's) is known only from the answer, so the caller counts the request afterwards with
 * `countSessionRequest` — for the video when it was found, else for no video, so made-up ids never
 * create cost rows of their own.
 */
export function unmeteredUploadSession(env: Env, videoId: string): DurableObjectStub<UploadSession> {
  return env.UPLOAD_SESSION.getByName(videoId);
}

export function countSessionRequest(result: SessionResult<unknown>, videoId: string): void {
  // Another user's upload answers exactly like a missing one (404): neither is billed to the video.
  const found = result.ok || result.code !== "UPLOAD_NOT_FOUND";
  count(found ? videoId : null, "do_requests");
}
