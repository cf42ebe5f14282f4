/**
 * The storyboard: one JPEG sprite of small frames (a grid, left to right then top to bottom) and
 * a WebVTT file whose cues map time ranges to regions of the sprite (`storyboard.jpg#xywh=x,y,w,h`,
 * the Media Fragments URI spatial syntax), which players show under the pointer while seeking.
 *
 * Pure: the layout (`storyboardLayout`), its cues (`storyboardCues`), the VTT text and a parser for
 * it, and the ffmpeg arguments (one call: `fps=1/N,scale,tile=CxR`, one output image).
 */

export const STORYBOARD_SPRITE = "storyboard.jpg";
export const STORYBOARD_VTT = "storyboard.vtt";
export const STORYBOARD_SPRITE_CONTENT_TYPE = "image/jpeg";
export const STORYBOARD_VTT_CONTENT_TYPE = "text/vtt; charset=utf-8";

/** Frames are this wide; the height follows the picture's aspect ratio. */
export const STORYBOARD_TILE_WIDTH = 160;
/** One frame every 2 s for short videos, up to every 10 s... */
export const STORYBOARD_MIN_INTERVAL = 2;
export const STORYBOARD_MAX_INTERVAL = 10;
/**
 * ...so that the sprite holds at most this many frames. Past 1000 s the interval grows beyond
 * 10 s instead: the sprite is fetched whole by a viewer who seeks, on a slow, metered link.
 */
export const STORYBOARD_MAX_TILES = 100;
export const STORYBOARD_MAX_COLUMNS = 10;
/**
 * JPEG quality (2 best - 31 worst). 6 keeps the small frames recognisable and a one-minute 720p
 * test pattern (30 frames, 1600x270) at ≈ 57 KB; 4 gives ≈ 70 KB, 8 ≈ 48 KB.
 */
export const STORYBOARD_JPEG_QUALITY = 6;

export interface StoryboardLayout {
  /** Seconds between frames (N): frame i is the picture at i·N s. */
  intervalSec: number;
  /** Frames in the sprite. */
  count: number;
  columns: number;
  rows: number;
  tileWidth: number;
  tileHeight: number;
}

/**
 * The grid for a video of `durationSec` whose picture (after rotation) is `width`×`height`.
 * N = ceil(duration / 100) within 2..10 s (above 10 s only for videos longer than 1000 s).
 */
export function storyboardLayout(durationSec: number, width: number, height: number): StoryboardLayout {
  const duration = Math.max(0, durationSec);
  const intervalSec = Math.max(STORYBOARD_MIN_INTERVAL, Math.ceil(duration / STORYBOARD_MAX_TILES));
  const count = Math.max(1, Math.ceil(duration / intervalSec));
  const columns = Math.min(count, STORYBOARD_MAX_COLUMNS);
  const rows = Math.ceil(count / columns);
  // Even, as the JPEG encoder's 4:2:0 chroma wants, and never zero.
  const tileHeight = Math.max(2, 2 * Math.round((STORYBOARD_TILE_WIDTH * height) / Math.max(1, width) / 2));
  return { intervalSec, count, columns, rows, tileWidth: STORYBOARD_TILE_WIDTH, tileHeight };
}

/** The sprite's size in pixels. */
export function spriteSize(layout: StoryboardLayout): { width: number; height: number } {
  return { width: layout.columns * layout.tileWidth, height: layout.rows * layout.tileHeight };
}

export interface StoryboardCue {
  /** Seconds. */
  start: number;
  end: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** One cue per frame, contiguous from 0 to the duration: frame i covers [i·N, min((i+1)·N, duration)]. */
export function storyboardCues(layout: StoryboardLayout, durationSec: number): StoryboardCue[] {
  const end = Math.max(0, durationSec);
  return Array.from({ length: layout.count }, (_, i) => ({
    start: Math.min(i * layout.intervalSec, end),
    end: Math.min((i + 1) * layout.intervalSec, end),
    x: (i % layout.columns) * layout.tileWidth,
    y: Math.floor(i / layout.columns) * layout.tileHeight,
    w: layout.tileWidth,
    h: layout.tileHeight,
  }));
}

/** A WebVTT timestamp, `hh:mm:ss.ttt` (the hours are always written; WebVTT allows them). */
export function vttTimestamp(seconds: number): string {
  const ms = Math.round(Math.max(0, seconds) * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** The VTT text: `WEBVTT`, then one cue per frame whose payload is the sprite region's URL (relative to the VTT). */
export function writeStoryboardVtt(cues: readonly StoryboardCue[], sprite = STORYBOARD_SPRITE): string {
  const blocks = cues.map((c) => `${vttTimestamp(c.start)} --> ${vttTimestamp(c.end)}\n${sprite}#xywh=${c.x},${c.y},${c.w},${c.h}`);
  return `WEBVTT\n\n${blocks.join("\n\n")}\n`;
}

export interface ParsedCue extends StoryboardCue {
  url: string;
}

function parseTimestamp(text: string): number {
  // "hh:mm:ss.ttt" or "mm:ss.ttt" (WebVTT §4.1, a WebVTT timestamp).
  const m = /^(?:(\d{2,}):)?([0-5]\d):([0-5]\d)\.(\d{3})$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a WebVTT timestamp.`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000;
}

/**
 * The cues of a storyboard VTT (what a player reads): throws on a file that is not WebVTT, a bad
 * timing line or a payload that is not `<url>#xywh=x,y,w,h`.
 */
export function parseStoryboardVtt(text: string): ParsedCue[] {
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  // "a string consisting of the ... 'WEBVTT' ... followed by ... a space, tab or line terminator"
  if (!/^\uFEFF?WEBVTT(?:[ \t][^\n]*)?(?:\n|$)/.test(blocks[0] ?? "")) throw new Error("The file does not start with WEBVTT.");
  const cues: ParsedCue[] = [];
  for (const block of blocks.slice(1)) {
    const lines = block.split("\n").filter((l) => l !== "");
    if (lines.length === 0 || lines[0]!.startsWith("NOTE")) continue;
    const timingAt = lines.findIndex((l) => l.includes("-->"));
    if (timingAt < 0 || timingAt > 1) throw new Error(`A cue has no timing line: ${JSON.stringify(block)}.`);
    const [startText, rest] = lines[timingAt]!.split("-->").map((s) => s.trim());
    const start = parseTimestamp(startText!);
    const end = parseTimestamp(rest!.split(/[ \t]/)[0]!);
    const payload = lines.slice(timingAt + 1).join("\n");
    const m = /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(payload);
    if (!m) throw new Error(`A cue's payload is not <url>#xywh=x,y,w,h: ${JSON.stringify(payload)}.`);
    cues.push({ start, end, url: m[1]!, x: Number(m[2]), y: Number(m[3]), w: Number(m[4]), h: Number(m[5]) });
  }
  return cues;
}

export interface StoryboardArgsOptions {
  input: string;
  output: string;
  layout: StoryboardLayout;
}

/** One ffmpeg call: pick a frame every N s, scale it, lay the frames out in the grid, write one JPEG. */
export function buildStoryboardArgs(opts: StoryboardArgsOptions): string[] {
  const { intervalSec, tileWidth, tileHeight, columns, rows } = opts.layout;
  return [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-loglevel",
    "error",
    "-i",
    opts.input,
    "-map",
    "0:V:0",
    // fps first, so only the chosen frames are scaled. The tile filter writes a grid when it is
    // full and, at the end of the input, the partial grid (the unused cells black).
    "-vf",
    `fps=1/${intervalSec},scale=${tileWidth}:${tileHeight},setsar=1,tile=${columns}x${rows}`,
    // One image: should the fps filter round one frame more than the grid holds, it is dropped.
    "-frames:v",
    "1",
    "-an",
    "-sn",
    "-dn",
    "-q:v",
    String(STORYBOARD_JPEG_QUALITY),
    "-f",
    "image2",
    "-update",
    "1",
    opts.output,
  ];
}
