import { sign, verify } from "hono/jwt";

/**
 * Per-job tokens for the transcoder's calls back into the Worker: HS256, scoped to one video and
 * one run (`videos.run`, never reused, so a cancelled run's token never works again), expiring.
 * Their audience differs from user tokens, so neither passes for the other.
 */
const JOB_AUDIENCE = "edge-video:job";
/** Long enough for the longest transcode of a 500 MB source, short enough to be useless later. */
export const JOB_TOKEN_TTL_SEC = 6 * 60 * 60;

export interface JobClaims {
  videoId: string;
  /** The run number (`videos.run`), carried in the `att` claim. */
  run: number;
}

export async function signJobToken(secret: string, job: JobClaims, nowSec = Math.floor(Date.now() / 1000)): Promise<string> {
  return sign({ sub: job.videoId, att: job.run, aud: JOB_AUDIENCE, iat: nowSec, exp: nowSec + JOB_TOKEN_TTL_SEC }, secret, "HS256");
}

export async function verifyJobToken(secret: string, token: string): Promise<JobClaims | null> {
  try {
    const claims = await verify(token, secret, { alg: "HS256", aud: JOB_AUDIENCE });
    if (typeof claims.sub !== "string" || typeof claims.att !== "number") return null;
    return { videoId: claims.sub, run: claims.att };
  } catch {
    return null;
  }
}
