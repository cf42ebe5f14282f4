/**
 * Where the ffmpeg and ffprobe executables are. This is the only module of the ffmpeg layer that
 * reads the environment; everything else takes the resolved paths as arguments.
 *
 * Order of preference:
 *   1. FFMPEG_PATH / FFPROBE_PATH (explicit wins, even if it turns out to be wrong: a typo should
 *      fail loudly rather than silently fall back to another build);
 *   2. the system's binary on PATH (the container image ships Debian's ffmpeg);
 *   3. the static build of the optional packages @ffmpeg-installer/ffmpeg and
 *      @ffprobe-installer/ffprobe (old, 4.1, but runs anywhere). They are not dependencies;
 *      they are used only if someone installed them.
 */
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

export interface FfmpegBinaries {
  ffmpegPath: string;
  ffprobePath: string;
}

type Tool = "ffmpeg" | "ffprobe";

const ENV_VAR: Record<Tool, string> = { ffmpeg: "FFMPEG_PATH", ffprobe: "FFPROBE_PATH" };
const INSTALLER_PACKAGE: Record<Tool, string> = {
  ffmpeg: "@ffmpeg-installer/ffmpeg",
  ffprobe: "@ffprobe-installer/ffprobe",
};

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A `which` over PATH, done in-process (no shell, works in minimal images without `which`). */
export function findOnPath(name: string, pathVar: string | undefined = process.env.PATH): string | undefined {
  if (!pathVar) return undefined;
  const names = process.platform === "win32" ? [`${name}.exe`, name] : [name];
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    for (const candidate of names) {
      const full = join(dir, candidate);
      if (isExecutableFile(full)) return full;
    }
  }
  return undefined;
}

/** The installer packages export `{ path }` (CommonJS); tolerate both default and named shapes. */
async function fromInstallerPackage(tool: Tool): Promise<string | undefined> {
  try {
    const mod: unknown = await import(INSTALLER_PACKAGE[tool]);
    const candidates = [mod, (mod as { default?: unknown }).default];
    for (const c of candidates) {
      const path = (c as { path?: unknown } | undefined)?.path;
      if (typeof path === "string" && isExecutableFile(path)) return path;
    }
  } catch {
    // Not installed: that is the normal case.
  }
  return undefined;
}

export async function resolveBinary(tool: Tool): Promise<string> {
  const fromEnv = process.env[ENV_VAR[tool]];
  if (fromEnv) {
    if (!isExecutableFile(fromEnv)) {
      throw new Error(`${ENV_VAR[tool]} is set to "${fromEnv}", which is not an executable file.`);
    }
    return fromEnv;
  }
  const found = findOnPath(tool) ?? (await fromInstallerPackage(tool));
  if (found) return found;
  throw new Error(`${tool} was not found: install it (Debian: apt-get install -y ffmpeg) or set ${ENV_VAR[tool]}.`);
}

/** Resolve both binaries once at start-up and pass the result down. */
export async function resolveBinaries(): Promise<FfmpegBinaries> {
  const [ffmpegPath, ffprobePath] = await Promise.all([resolveBinary("ffmpeg"), resolveBinary("ffprobe")]);
  return { ffmpegPath, ffprobePath };
}
