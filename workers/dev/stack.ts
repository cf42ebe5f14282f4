/**
 * The local stack as processes: D1 migrations, the web build, `wrangler dev` (workerd with local
 * D1/R2/KV/Durable Objects/Queues). Used by `npm start` and by the end-to-end tests, so both run
 * the same thing.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { transcoderControlKey } from "../../contract/control-key.ts";

export const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "node_modules", ".bin");
export const DEV_JWT_SECRET = "dev-only-secret-change-me";
/** The secret both wrangler (JWT_SECRET) and the transcoder's control key are derived from. */
const jwtSecret = () => process.env.JWT_SECRET ?? DEV_JWT_SECRET;

/**
 * The web app's builds: web/dist for `npm start` (wrangler.toml's [assets]), and a directory of the
 * tests' own, so that running the tests never rebuilds (and empties) the directory a running
 * `npm start` serves.
 */
export const WEB_DIST = join(ROOT, "web", "dist");
export const TEST_WEB_DIST = join(ROOT, "web", "dist-test");
/** The bench's own build of the web app, made fresh each run: it measures the code as it is now. */
export const BENCH_WEB_DIST = join(ROOT, "web", "dist-bench");

export interface StackOptions {
  port: number;
  /** Another wrangler config (benchmark baselines); defaults to the product's wrangler.toml. */
  config?: string;
  /** Folder for local state (defaults to .wrangler/state). Tests pass a temporary one. */
  persistTo?: string;
  /** Extra `--var NAME:value` pairs. */
  vars?: Record<string, string>;
  /** Print wrangler's output (npm start) or keep it for diagnostics (tests). */
  inheritOutput?: boolean;
  /** DevTools port of the Worker's isolate (the benchmark reads its heap); any free port by default. */
  inspectorPort?: number;
  /** Serve the web app from this directory instead of the config's [assets].directory (tests: TEST_WEB_DIST). */
  assetsDir?: string;
}

export interface RunningStack {
  baseUrl: string;
  wrangler: ChildProcess;
  /** Everything wrangler printed, for failure messages. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Node 22.12+ is what wrangler needs; npm scripts put the `node@22` devDependency first on PATH. */
export function assertNodeVersion(): void {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(`Node ${process.versions.node} is too old: run through npm (npm start / npm test), which uses the project's Node 22.`);
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(join(BIN, command), args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  }
}

export function applyMigrations(persistTo?: string): void {
  run("wrangler", ["d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])]);
}

/** Builds the web app into `outDir` (web/dist by default). */
export function buildWeb(outDir = WEB_DIST): void {
  // vite resolves --outDir against its root (web/).
  run("vite", ["build", "web", "--logLevel", "warn", "--outDir", relative(join(ROOT, "web"), outDir), "--emptyOutDir"]);
}

export function ensureWebBuilt(outDir = WEB_DIST): void {
  if (!existsSync(join(outDir, "index.html"))) buildWeb(outDir);
}

export async function startWrangler(opts: StackOptions): Promise<RunningStack> {
  const vars = { DEV_AUTH: "true", ...opts.vars };
  const args = [
    "dev",
    ...(opts.config ? ["--config", opts.config] : []),
    "--port",
    String(opts.port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(opts.inspectorPort ?? 0),
    "--test-scheduled",
    "--show-interactive-dev-session=false",
    ...(opts.persistTo ? ["--persist-to", opts.persistTo] : []),
    // --assets replaces only [assets].directory; binding, run_worker_first and not_found_handling stay the config's.
    ...(opts.assetsDir ? ["--assets", opts.assetsDir] : []),
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  const wrangler = spawn(join(BIN, "wrangler"), args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    // Secrets come from the environment (wrangler reads required secrets from process.env).
    env: { ...process.env, JWT_SECRET: jwtSecret(), WRANGLER_SEND_METRICS: "false" },
  });
  const output = captureOutput(wrangler, opts.inheritOutput);
  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const stop = () => stopProcess(wrangler);
  await waitUntil(
    async () => {
      if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited (${wrangler.exitCode}):\n${output()}`);
      const res = await fetch(`${baseUrl}/api/video/uploads`, { method: "OPTIONS" }).catch(() => null);
      return res !== null && (res.status === 204 || opts.config !== undefined);
    },
    90_000,
    () => `wrangler dev did not become ready:\n${output()}`,
  );
  return { baseUrl, wrangler, output, stop };
}

export interface RunningTranscoder {
  url: string;
  process: ChildProcess;
  output: () => string;
  stop: () => Promise<void>;
}

/**
 * The transcoder as the plain HTTP process the local Worker talks to (TRANSCODER_URL). It takes
 * jobs only with the control key derived from the same secret wrangler gets, and calls back only
 * `publicUrl` (the Worker's PUBLIC_URL).
 */
export async function startTranscoder(opts: {
  port: number;
  publicUrl: string;
  inheritOutput?: boolean;
  env?: Record<string, string>;
}): Promise<RunningTranscoder> {
  const child = spawn(process.execPath, [join(ROOT, "transcoder", "src", "server.ts")], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      TRANSCODER_PORT: String(opts.port),
      TRANSCODER_HOST: "127.0.0.1",
      TRANSCODER_CONTROL_KEY: await transcoderControlKey(jwtSecret()),
      PUBLIC_URL: opts.publicUrl,
      ...opts.env,
    },
  });
  const output = captureOutput(child, opts.inheritOutput);
  const url = `http://127.0.0.1:${opts.port}`;
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`the transcoder exited (${child.exitCode}):\n${output()}`);
      const res = await fetch(`${url}/health`).catch(() => null);
      return res?.ok === true;
    },
    30_000,
    () => `the transcoder did not become ready:\n${output()}`,
  );
  return { url, process: child, output, stop: () => stopProcess(child) };
}

/** Keeps the last ~100 KB a child printed (for failure messages), echoing it when asked. */
function captureOutput(child: ChildProcess, echo = false): () => string {
  let output = "";
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
    if (echo) process.stdout.write(chunk);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  return () => output;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(describe());
}
