import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { findOnPath, resolveBinary } from "./binaries.ts";

const dir = mkdtempSync(join(tmpdir(), "binaries-test-"));
const binDir = join(dir, "bin");
mkdirSync(binDir);
const fakeFfmpeg = join(binDir, "ffmpeg");
writeFileSync(fakeFfmpeg, "#!/bin/sh\n");
chmodSync(fakeFfmpeg, 0o755);
writeFileSync(join(binDir, "ffprobe"), "not executable");

const savedEnv = { PATH: process.env.PATH, FFMPEG_PATH: process.env.FFMPEG_PATH, FFPROBE_PATH: process.env.FFPROBE_PATH };
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("findOnPath", () => {
  it("finds an executable file in a PATH directory", () => {
    expect(findOnPath("ffmpeg", `/nonexistent:${binDir}`)).toBe(fakeFfmpeg);
  });

  it("skips files that are not executable, and directories", () => {
    expect(findOnPath("ffprobe", binDir)).toBeUndefined();
    expect(findOnPath("bin", dir)).toBeUndefined();
  });
});

describe("resolveBinary", () => {
  it("prefers FFMPEG_PATH", async () => {
    process.env.FFMPEG_PATH = fakeFfmpeg;
    process.env.PATH = "/nonexistent";
    await expect(resolveBinary("ffmpeg")).resolves.toBe(fakeFfmpeg);
  });

  it("refuses an FFMPEG_PATH that is not executable rather than falling back", async () => {
    process.env.FFPROBE_PATH = join(binDir, "ffprobe");
    await expect(resolveBinary("ffprobe")).rejects.toThrow(/FFPROBE_PATH .* not an executable/);
  });

  it("uses PATH when the variable is unset", async () => {
    delete process.env.FFMPEG_PATH;
    process.env.PATH = binDir;
    await expect(resolveBinary("ffmpeg")).resolves.toBe(fakeFfmpeg);
  });

  it("says how to install when nothing is found", async () => {
    delete process.env.FFPROBE_PATH;
    process.env.PATH = "/nonexistent";
    // (Passes as long as @ffprobe-installer/ffprobe is not installed, which it is not.)
    await expect(resolveBinary("ffprobe")).rejects.toThrow(
      "ffprobe was not found: install it (Debian: apt-get install -y ffmpeg) or set FFPROBE_PATH.",
    );
  });
});
