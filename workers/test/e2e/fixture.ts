/** A real local stack for end-to-end tests: its own port and its own state folder. */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import {
  ROOT,
  TEST_WEB_DIST,
  applyMigrations,
  assertNodeVersion,
  ensureWebBuilt,
  startTranscoder,
  startWrangler,
  type RunningStack,
  type RunningTranscoder,
} from "../../dev/stack.ts";

export interface TestStack extends RunningStack {
  persistTo: string;
  transcoder: RunningTranscoder | null;
  /** Stops the runtime (workerd) and starts it again on the same port and state, like a crash and restart. */
  restartRuntime(): Promise<void>;
  /** Kills the transcoder and its ffmpeg at once (SIGKILL, like a lost container), then starts a fresh one on the same port. */
  crashTranscoder(): Promise<void>;
  tokenFor(userId: string, role?: "creator" | "admin"): Promise<string>;
  /** SHA-256 and size of an object in the local R2 bucket, read with wrangler's own CLI. */
  r2Object(key: string): { size: number; sha256: string } | null;
  close(): Promise<void>;
}

/** Process ids whose parent is `pid` (from /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        return readFileSync(`/proc/${name}/stat`, "utf8").split(") ")[1]?.split(" ")[1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs SQL on the stack's local D1 with wrangler's own CLI; returns the rows. */
export function d1Query<T>(persistTo: string, sql: string): T[] {
  const result = spawnSync(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    ["d1", "execute", "DB", "--local", "--persist-to", persistTo, "--json", "--command", sql],
    {
      cwd: ROOT,
      encoding: "utf8",
    },
  );
  if (result.status !== 0) throw new Error(`d1 execute failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { results: T[] }[])[0].results;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestStackOptions {
  /** Worker vars on top of the local ones. */
  vars?: Record<string, string>;
  /** Start a transcoder (real ffmpeg) beside the Worker. */
  transcoder?: boolean;
  /** Serve the web app from this build (the bench's) instead of the tests' own. */
  assetsDir?: string;
}

/** What a test file gets from `useTestStack`, once its tests run. */
export interface FileStack {
  readonly stack: TestStack;
  /** A token of the file's user (dev login), when one was asked for. */
  readonly token: string;
  /** A scratch folder of the file's own, removed with the stack. */
  readonly dir: string;
}

/**
 * One stack for a test file: started before its tests (with the user signed in and a scratch
 * folder), its logs printed when E2E_DEBUG is set, everything stopped and removed after them.
 */
export function useTestStack(opts: TestStackOptions & { user?: { id: string; role?: "creator" | "admin" } } = {}): FileStack {
  let stack: TestStack | undefined;
  let token = "";
  let dir = "";
  beforeAll(async () => {
    stack = await startTestStack(opts);
    if (opts.user) token = await stack.tokenFor(opts.user.id, opts.user.role);
    dir = mkdtempSync(join(tmpdir(), "edge-video-test-"));
  });
  afterAll(async () => {
    if (process.env.E2E_DEBUG) console.log(stack?.output(), stack?.transcoder?.output() ?? "");
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get stack() {
      if (!stack) throw new Error("The stack starts before the file's tests: use it inside them.");
      return stack;
    },
    get token() {
      return token;
    },
    get dir() {
      return dir;
    },
  };
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  assertNodeVersion();
  const persistTo = mkdtempSync(join(tmpdir(), "edge-video-state-"));
  applyMigrations(persistTo);
  // The tests' own build of the web app: never the web/dist a running `npm start` serves.
  if (!opts.assetsDir) ensureWebBuilt(TEST_WEB_DIST);
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const transcoderPort = await freePort();
  let transcoder = opts.transcoder ? await startTranscoder({ port: transcoderPort, publicUrl }) : null;
  const wranglerOptions = {
    port,
    persistTo,
    assetsDir: opts.assetsDir ?? TEST_WEB_DIST,
    vars: {
      PUBLIC_URL: publicUrl,
      // Without a transcoder, point at a closed port so no stray local process picks up jobs.
      TRANSCODER_URL: transcoder ? transcoder.url : "http://127.0.0.1:9",
      ...opts.vars,
    },
  };
  let stack = await startWrangler(wranglerOptions);
  return {
    baseUrl: stack.baseUrl,
    get wrangler() {
      return stack.wrangler;
    },
    output: () => stack.output(),
    stop: () => stack.stop(),
    persistTo,
    get transcoder() {
      return transcoder;
    },
    async crashTranscoder() {
      if (!transcoder) throw new Error("this stack has no transcoder");
      const pid = transcoder.process.pid!;
      for (const child of childrenOf(pid)) process.kill(child, "SIGKILL");
      transcoder.process.kill("SIGKILL");
      await transcoder.stop();
      transcoder = await startTranscoder({ port: transcoderPort, publicUrl });
    },
    async restartRuntime() {
      await stack.stop();
      stack = await startWrangler(wranglerOptions);
    },
    async tokenFor(userId, role = "creator") {
      const res = await fetch(`${stack.baseUrl}/api/auth/dev-login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ userId, role }),
      });
      if (!res.ok) throw new Error(`dev login failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    r2Object(key) {
      const file = join(persistTo, `object-${Date.now()}`);
      const result = spawnSync(
        join(ROOT, "node_modules", ".bin", "wrangler"),
        ["r2", "object", "get", `edge-video-media/${key}`, "--local", "--persist-to", persistTo, "--file", file],
        { cwd: ROOT, encoding: "utf8" },
      );
      if (result.status !== 0) return null;
      const bytes = readFileSync(file);
      rmSync(file);
      return { size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
    },
    async close() {
      await stack.stop();
      await transcoder?.stop();
      rmSync(persistTo, { recursive: true, force: true });
    },
  };
}
