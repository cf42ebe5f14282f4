/**
 * `npm start`: the whole local stack on http://localhost:8787 (PORT overrides): D1 migrations applied,
 * the web app built, the transcoder (Node + ffmpeg) on TRANSCODER_PORT (8788), and wrangler dev with
 * DEV_AUTH and a dev JWT secret, wired to each other.
 */
import { applyMigrations, assertNodeVersion, buildWeb, startTranscoder, startWrangler, stopProcess } from "./stack.ts";

const port = Number(process.env.PORT ?? 8787);
const transcoderPort = Number(process.env.TRANSCODER_PORT ?? 8788);

async function main(): Promise<void> {
  assertNodeVersion();
  console.log("• applying D1 migrations (local)…");
  applyMigrations();
  console.log("• building the web app…");
  buildWeb();
  console.log("• starting the transcoder…");
  const publicUrl = `http://127.0.0.1:${port}`;
  const transcoder = await startTranscoder({ port: transcoderPort, publicUrl, inheritOutput: true });
  console.log("• starting wrangler dev…");
  const stack = await startWrangler({
    port,
    inheritOutput: true,
    vars: { PUBLIC_URL: publicUrl, TRANSCODER_URL: transcoder.url },
  });
  const url = `http://localhost:${port}`;
  console.log(`
Edge Video is running:
  web app          ${url}/
  tus endpoint     ${url}/api/video/uploads
  transcoder       ${transcoder.url}/health
  dev login        curl -X POST ${url}/api/auth/dev-login -H 'content-type: application/json' -d '{"userId":"alice","role":"creator"}'
  crons            curl '${url}/__scheduled?cron=*+*+*+*+*'   (jobs)   curl '${url}/__scheduled?cron=0+*/6+*+*+*'   (expiry)
Press Ctrl+C to stop.`);
  const cron = startLocalCron(`http://127.0.0.1:${port}`);
  const shutdown = async () => {
    clearInterval(cron);
    await Promise.all([stopProcess(stack.wrangler), stopProcess(transcoder.process)]);
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  stack.wrangler.on("exit", (code) => void stopProcess(transcoder.process).then(() => process.exit(code ?? 1)));
  transcoder.process.on("exit", (code) => void stopProcess(stack.wrangler).then(() => process.exit(code ?? 1)));
}

/**
 * wrangler dev runs crons only when asked (/__scheduled): this asks on the production schedule, so
 * stalled jobs are retried, uploads expire and costs are rolled up locally too.
 */
function startLocalCron(base: string): NodeJS.Timeout {
  const due = (d: Date) => [
    "* * * * *",
    ...(d.getUTCMinutes() === 0 && d.getUTCHours() % 6 === 0 ? ["0 */6 * * *"] : []),
    ...(d.getUTCMinutes() === 10 && d.getUTCHours() === 0 ? ["10 0 * * *"] : []),
  ];
  return setInterval(() => {
    for (const cron of due(new Date())) {
      fetch(`${base}/__scheduled?cron=${encodeURIComponent(cron)}`)
        .then((res) => res.arrayBuffer())
        .catch((error: unknown) => console.error(`local cron ${cron} failed:`, String(error)));
    }
  }, 60_000);
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
