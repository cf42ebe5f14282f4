/**
 * Deploy check: `wrangler deploy --dry-run` bundles the Worker and validates wrangler.toml for the
 * default and the production environment (production's Container image needs Docker to build, so
 * its rollout is skipped here; the Dockerfile path is still checked), with the Analytics Engine
 * dataset every playback beacon is written to.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, TEST_WEB_DIST, ensureWebBuilt } from "../../dev/stack.ts";

function dryRun(extra: string[]): { status: number | null; output: string; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), "edge-video-dry-run-"));
  // The tests' own web build stands in for web/dist (which only `npm start` and a deploy build).
  ensureWebBuilt(TEST_WEB_DIST);
  const args = ["deploy", "--dry-run", "--outdir", outdir, "--assets", TEST_WEB_DIST, ...extra];
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "wrangler"), args, {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return { status: result.status, output: result.stdout + result.stderr, outdir };
}

describe("wrangler deploy --dry-run", () => {
  it.each([
    ["the default environment", [] as string[], []],
    [
      "production (Container binding)",
      ["--env", "production", "--containers-rollout=none"],
      ["env.TRANSCODER", "transcoder/Dockerfile", "env.PLAYBACK_EVENTS"],
    ],
  ])("bundles %s", (_, args, mentions) => {
    const run = dryRun(args);
    try {
      expect(run.status, run.output).toBe(0);
      // wrangler ignores a field it does not know, with only a warning: none may be ignored.
      expect(run.output).not.toMatch(/Unexpected fields/);
      expect(existsSync(join(run.outdir, "index.js"))).toBe(true);
      for (const m of ["env.UPLOAD_SESSION", "env.MEDIA", "env.DB", "env.JOBS", "env.CONFIG", ...mentions]) expect(run.output).toContain(m);
    } finally {
      rmSync(run.outdir, { recursive: true, force: true });
    }
  });
});
