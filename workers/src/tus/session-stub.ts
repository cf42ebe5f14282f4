import type { UploadSession } from "./upload-session.ts";

/** The UploadSession of one upload: one Durable Object per video id. */
export function uploadSession(env: Env, videoId: string): DurableObjectStub<UploadSession> {
  return env.UPLOAD_SESSION.getByName(videoId);
}
