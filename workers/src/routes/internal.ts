import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../http/errors.ts";
import { verifyJobToken, type JobClaims } from "../jobs/job-token.ts";
import { isCurrentRun, recordProgress, recordResult } from "../jobs/lifecycle.ts";
import { dispatchNext } from "../jobs/dispatch.ts";
import { outputKey, sourceKey } from "../storage/keys.ts";
import { contentTypeOf } from "../storage/content-types.ts";
import { r2Media } from "../storage/media.ts";
import { meter, pricesFrom } from "../costs/meter.ts";
import { OUTPUT_FILE, parseTranscodeProgress, parseTranscodeResult } from "../../../contract/transcode.ts";

type JobEnv = { Bindings: Env; Variables: { job: JobClaims } };

/**
 * The transcoder's routes back into the Worker, one set per job. Each call carries that job's
 * token; a token for another video, another run, or a job no longer running gets 401/409.
 */
export const internal = new Hono<JobEnv>();

const requireCurrentJob = createMiddleware<JobEnv>(async (c, next) => {
  const token = /^Bearer\s+(\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const job = token ? await verifyJobToken(c.env.JWT_SECRET, token) : null;
  if (!job || job.videoId !== c.req.param("id")) throw new ApiError(401, "invalid_job_token", "This route needs the job's own token.");
  if (!(await isCurrentRun(c.env, job)))
    throw new ApiError(409, "job_not_current", "This job was cancelled, retried or removed: stop working on it.");
  c.set("job", job);
  await next();
});

internal.use("/jobs/:id/*", requireCurrentJob);

internal.get("/jobs/:id/source", async (c) => {
  const object = await r2Media(c.env.MEDIA).get(sourceKey(c.get("job").videoId));
  if (!object) throw new ApiError(404, "source_missing", "The source file is not in storage.");
  c.executionCtx.waitUntil(meter(c.env.DB, pricesFrom(c.env), [{ videoId: c.get("job").videoId, kind: "r2_class_b", quantity: 1 }]));
  return new Response(object.body, { headers: { "Content-Length": String(object.size), "Content-Type": "application/octet-stream" } });
});

internal.put("/jobs/:id/files/*", async (c) => {
  const path = c.req.path.slice(c.req.path.indexOf("/files/") + "/files/".length);
  if (!OUTPUT_FILE.test(path)) throw new ApiError(400, "invalid_output_path", `Not an output file name: ${path}`);
  const length = Number(c.req.header("Content-Length"));
  // A streamed put needs a known length; without one, segments are small enough to buffer.
  const body = Number.isFinite(length) && length > 0 && c.req.raw.body ? c.req.raw.body : await c.req.arrayBuffer();
  // Each run writes under its own prefix: a retried run never overwrites or mixes with another's files.
  const { videoId, run } = c.get("job");
  await r2Media(c.env.MEDIA).put(outputKey(videoId, run, path), body, { contentType: contentTypeOf(path) });
  c.executionCtx.waitUntil(meter(c.env.DB, pricesFrom(c.env), [{ videoId, kind: "r2_class_a", quantity: 1 }]));
  return c.body(null, 204);
});

internal.post("/jobs/:id/progress", async (c) => {
  const report = parseTranscodeProgress(await c.req.json().catch(() => null));
  if (!report.ok) throw new ApiError(400, "invalid_progress", `${report.error} Send {progress: 0–100, playable: boolean}.`);
  if (!(await recordProgress(c.env, c.get("job"), report.value, c.executionCtx)))
    throw new ApiError(409, "job_not_current", "This job is no longer running.");
  return c.json({ continue: true });
});

internal.post("/jobs/:id/result", async (c) => {
  // Checked whole before anything is stored: a malformed row would break every list it is in.
  const result = parseTranscodeResult(await c.req.json().catch(() => null));
  if (!result.ok) throw new ApiError(400, "invalid_result", result.error);
  if (!(await recordResult(c.env, c.get("job"), result.value, c.executionCtx)))
    throw new ApiError(409, "job_not_current", "This job is no longer running.");
  // A slot is free: start the next job without waiting for the cron.
  c.executionCtx.waitUntil(dispatchNext(c.env));
  return c.body(null, 204);
});
