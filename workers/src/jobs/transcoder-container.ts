import { Container } from "@cloudflare/containers";
import { transcoderControlKey } from "../../../contract/control-key.ts";

/**
 * The transcoder as a Cloudflare Container (production): the image of transcoder/Dockerfile,
 * listening on 8788. One instance per job (keyed by video id), so jobs scale out to
 * max_instances; an idle instance sleeps after a few minutes.
 */
export class TranscoderContainer extends Container {
  override defaultPort = 8788;
  override sleepAfter = "5m";

  constructor(ctx: DurableObjectState<Record<string, never>>, env: Cloudflare.Env) {
    super(ctx, env);
    // The key is derived asynchronously; no request reaches the container before it is set.
    void ctx.blockConcurrencyWhile(async () => {
      this.envVars = await containerEnvVars(env);
    });
  }
}

/**
 * The container's environment: the transcoder refuses to start without the control key (only this
 * Worker may start or stop its jobs) and PUBLIC_URL (the only origin it will call back).
 */
export async function containerEnvVars(env: Pick<Env, "JWT_SECRET" | "PUBLIC_URL">): Promise<Record<string, string>> {
  return {
    TRANSCODER_HOST: "0.0.0.0",
    TRANSCODER_PORT: "8788",
    TRANSCODER_CONCURRENCY: "1",
    TRANSCODER_CONTROL_KEY: await transcoderControlKey(env.JWT_SECRET),
    PUBLIC_URL: env.PUBLIC_URL,
  };
}
