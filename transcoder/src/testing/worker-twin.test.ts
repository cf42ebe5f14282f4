/**
 * The in-memory Worker twin against the contract of the Worker's internal job routes: the same
 * suite runs against the real routes in the workers project (workers/test/internal-routes.test.ts).
 */
import { afterAll, beforeAll } from "vitest";
import { internalRoutesSuite, type IssuedJob } from "../../../contract/testing/internal-routes-suite.ts";
import { WorkerTwin, type TwinJob } from "./worker-twin.ts";

let twin: WorkerTwin;
beforeAll(async () => {
  twin = await new WorkerTwin().start();
});
afterAll(async () => {
  await twin?.close();
});

const jobs = new Map<string, TwinJob>();
let counter = 0;

internalRoutesSuite("the transcoder tests' twin", () => ({
  async issueJob(): Promise<IssuedJob> {
    const videoId = `contract-${++counter}`;
    const source = new TextEncoder().encode(`source of ${videoId}`);
    jobs.set(videoId, twin.addJob(videoId, { source: Buffer.from(source), tokens: [`${videoId}-run-1`, `${videoId}-run-0`] }));
    // Run 0 came before: its token is known to the twin, and no longer current.
    twin.endRun(videoId, `${videoId}-run-0`);
    return { videoId, token: `${videoId}-run-1`, source };
  },
  async tokenOfAnotherRun(job) {
    return `${job.videoId}-run-0`;
  },
  fetch(job, route, init) {
    return fetch(`${twin.callbackBase(job.videoId)}/${route}`, init);
  },
  async storedFile(job, path) {
    const file = jobs.get(job.videoId)!.files.get(path);
    return file ? new Uint8Array(file) : null;
  },
  async isCurrent(job) {
    return twin.isCurrent(job.videoId, job.token);
  },
}));
