import { getContainer } from "@cloudflare/containers";
import type { TranscodeRequest } from "../shared/transcode.ts";

/**
 * How the Worker reaches the transcoder: plain HTTP locally (TRANSCODER_URL), a Cloudflare
 * Container in production (the TRANSCODER binding, one container instance per job).
 */
export interface TranscoderClient {
  /** "busy": at capacity, try later. "unavailable": not reachable. */
  start(request: TranscodeRequest): Promise<"accepted" | "busy" | "unavailable">;
  /** Best effort: stops the job's ffmpeg and removes its temporary files. */
  cancel(videoId: string): Promise<void>;
}

type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The transcoder's HTTP API over any fetch (a URL locally, a container stub in production). */
export class HttpTranscoderClient implements TranscoderClient {
  constructor(
    private readonly baseUrl: string,
    private readonly fetchFor: (videoId: string) => FetchLike = () => fetch,
  ) {}

  async start(request: TranscodeRequest): Promise<"accepted" | "busy" | "unavailable"> {
    try {
      const res = await this.fetchFor(request.videoId)(`${this.baseUrl}/jobs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      await res.body?.cancel();
      if (res.status === 202) return "accepted";
      return res.status === 503 ? "busy" : "unavailable";
    } catch (error) {
      console.warn(`transcoder unreachable at ${this.baseUrl}:`, String(error));
      return "unavailable";
    }
  }

  async cancel(videoId: string): Promise<void> {
    try {
      const res = await this.fetchFor(videoId)(`${this.baseUrl}/jobs/${videoId}`, { method: "DELETE" });
      await res.body?.cancel();
    } catch (error) {
      console.warn(`could not reach the transcoder to cancel ${videoId}:`, String(error));
    }
  }
}

export function transcoderFor(env: Env): TranscoderClient {
  const containers = env.TRANSCODER;
  if (containers) {
    // The URL's host is irrelevant: the stub routes the request to the job's container instance.
    return new HttpTranscoderClient("http://transcoder", (videoId) => {
      const instance = getContainer(containers, videoId);
      return (input, init) => instance.fetch(input, init);
    });
  }
  return new HttpTranscoderClient(env.TRANSCODER_URL.replace(/\/$/, ""));
}
