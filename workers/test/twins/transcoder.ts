import type { TranscoderClient } from "../../src/jobs/transcoder-client.ts";
import type { TranscodeRequest } from "../../../contract/transcode.ts";

/**
 * In-memory twin of the transcoder as the Worker sees it (TranscoderClient): records every job it
 * was asked to start and every video it was asked to stop, and answers a start as told. The one
 * copy for every workerd test that dispatches, cancels or removes a job.
 */
export class TwinTranscoder implements TranscoderClient {
  /** The requests of every start, in order (the token for the internal routes is in each). */
  started: TranscodeRequest[] = [];
  /** The video ids of every cancel, in order. */
  cancelled: string[] = [];
  /** What the next start answers: "busy" (at capacity) and "unavailable" (down) give the attempt back. */
  answer: "accepted" | "busy" | "unavailable" = "accepted";

  async start(request: TranscodeRequest) {
    this.started.push(request);
    return this.answer;
  }

  async cancel(videoId: string) {
    this.cancelled.push(videoId);
  }
}
