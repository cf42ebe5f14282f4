/**
 * `npm start`: the whole local stack on http://localhost:8787 (PORT overrides): D1 migrations applied,
 * the web app built, wrangler dev with DEV_AUTH and a dev JWT secret.
 */
import { applyMigrations, assertNodeVersion, buildWeb, startWrangler, stopProcess } from "./stack.ts";

const port = Number(process.env.PORT ?? 8787);

async function main(): Promise<void> {
  assertNodeVersion();
  console.log("• applying D1 migrations (local)…");
  applyMigrations();
  console.log("• building the web app…");
  buildWeb();
  console.log("• starting wrangler dev…");
  const stack = await startWrangler({ port, inheritOutput: true });
  const url = `http://localhost:${port}`;
  console.log(`
Edge Video is running:
  web app          ${url}/
  tus endpoint     ${url}/api/video/uploads
  dev login        curl -X POST ${url}/api/auth/dev-login -H 'content-type: application/json' -d '{"userId":"alice","role":"creator"}'
  cron (expiry)    curl '${url}/__scheduled?cron=0+*/6+*+*+*'
Press Ctrl+C to stop.`);
  const shutdown = async () => {
    await stopProcess(stack.wrangler);
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  stack.wrangler.on("exit", (code) => process.exit(code ?? 1));
}

main().catch((error: unknown) => {
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
