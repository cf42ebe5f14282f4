import type { UploadSession } from "./upload-session.ts";
import { count } from "../costs/meter.ts";

/** The UploadSession of one upload: one Durable Object per video id. Each use is one billed DO request. */
export function uploadSession(env: Env, videoId: string): DurableObjectStub<UploadSession> {
  count(videoId, "do_requests");
  return env.UPLOAD_SESSION.getByName(videoId);
}
