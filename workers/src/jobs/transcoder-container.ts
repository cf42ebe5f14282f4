import { Container } from "@cloudflare/containers";

/**
 * The transcoder as a Cloudflare Container (production): the image of transcoder/Dockerfile,
 * listening on 8788. One instance per job (keyed by video id), so jobs scale out to
 * max_instances; an idle instance sleeps after a few minutes.
 */
export class TranscoderContainer extends Container {
  override defaultPort = 8788;
  override sleepAfter = "5m";
  override envVars = { TRANSCODER_HOST: "0.0.0.0", TRANSCODER_PORT: "8788", TRANSCODER_CONCURRENCY: "1" };
}
