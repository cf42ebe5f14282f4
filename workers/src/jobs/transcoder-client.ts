import { getContainer } from "@cloudflare/containers";
import type { TranscodeRequest } from "../../../contract/transcode.ts";
import { transcoderControlKey } from "../../../contract/control-key.ts";

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

/**
 * The transcoder's HTTP API over any fetch (a URL locally, a container stub in production). Only
 * the Worker may start or stop a job: both calls carry the control key (see contract/control-key.ts).
 */
export class HttpTranscoderClient implements TranscoderClient {
  constructor(
    private readonly baseUrl: string,
    private readonly controlKey: Promise<string> | string,
    private readonly fetchFor: (videoId: string) => FetchLike = () => fetch,
  ) {}

  private async headers(extra: Record<string, string> = {}): Promise<Record<string, string>> {
    return { Authorization: `Bearer ${await this.controlKey}`, ...extra };
  }

  async start(request: TranscodeRequest): Promise<"accepted" | "busy" | "unavailable"> {
    try {
      const res = await this.fetchFor(request.videoId)(`${this.baseUrl}/jobs`, {
        method: "POST",
        headers: await this.headers({ "content-type": "application/json" }),
        body: JSON.stringify(request),
      });
      if (res.status === 202) {
        await res.body?.cancel();
        return "accepted";
      }
      if (res.status === 503) {
        await res.body?.cancel();
        return "busy";
      }
      // 401/400: the transcoder was not given this Worker's control key or PUBLIC_URL; worth saying loudly.
      console.error(`the transcoder at ${this.baseUrl} refused the job (${res.status}):`, await res.text().catch(() => ""));
      return "unavailable";
    } catch (error) {
      console.warn(`transcoder unreachable at ${this.baseUrl}:`, String(error));
      return "unavailable";
    }
  }

  async cancel(videoId: string): Promise<void> {
    try {
      const res = await this.fetchFor(videoId)(`${this.baseUrl}/jobs/${encodeURIComponent(videoId)}`, {
        method: "DELETE",
        headers: await this.headers(),
      });
      await res.body?.cancel();
    } catch (error) {
      console.warn(`could not reach the transcoder to cancel ${videoId}:`, String(error));
    }
  }
}

export function transcoderFor(env: Env): TranscoderClient {
  const key = transcoderControlKey(env.JWT_SECRET);
  // Not awaited until a call needs it; a failure then surfaces in that call.
  key.catch(() => undefined);
  const containers = env.TRANSCODER;
  if (containers) {
    // The URL's host is irrelevant: the stub routes the request to the job's container instance.
    return new HttpTranscoderClient("http://transcoder", key, (videoId) => {
      const instance = getContainer(containers, videoId);
      return (input, init) => instance.fetch(input, init);
    });
  }
  return new HttpTranscoderClient(env.TRANSCODER_URL.replace(/\/$/, ""), key);
}
