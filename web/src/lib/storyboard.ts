/**
 * The storyboard a player shows while seeking: a WebVTT file whose cues map time ranges to regions
 * of one JPEG sprite (`storyboard.jpg#xywh=x,y,w,h`, the Media Fragments spatial syntax). Pure (no
 * DOM): parsing, the cue for a time, and the CSS that shows a cue's region as a background.
 *
 * Hand-written rather than a player UI library: this and the seek bar cost about 1 KB gzipped
 * against about 35 KB for the smallest set of media-chrome elements that does the same (measured
 * on the built bundle), on a page made for slow mobile links.
 */

export interface StoryboardFrame {
  /** Seconds. */
  start: number;
  end: number;
  /** The sprite's absolute URL (resolved against the VTT's). */
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** "hh:mm:ss.ttt" or "mm:ss.ttt" in seconds; NaN when it is not a WebVTT timestamp. */
function seconds(text: string): number {
  const m = /^(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})$/.exec(text.trim());
  return m ? Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number(m[4]) / 1000 : Number.NaN;
}

/**
 * The frames of a storyboard VTT, in file order. Cues that are not `<url>#xywh=x,y,w,h` are skipped
 * (a thumbnail missing is better than no player); a file that is not WebVTT gives none.
 */
export function parseStoryboard(text: string, vttUrl: string): StoryboardFrame[] {
  const blocks = text.replace(/\r\n?/g, "\n").split(/\n{2,}/);
  if (!/^\uFEFF?WEBVTT(?:[ \t\n]|$)/.test(blocks[0] ?? "")) return [];
  const frames: StoryboardFrame[] = [];
  for (const block of blocks.slice(1)) {
    const lines = block.split("\n");
    const at = lines.findIndex((l) => l.includes("-->"));
    if (at < 0) continue;
    const [from, to] = lines[at]!.split("-->");
    const start = seconds(from!);
    const end = seconds(to!.trim().split(/[ \t]/)[0]!);
    const m = /^([^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(
      lines
        .slice(at + 1)
        .join("\n")
        .trim(),
    );
    if (!m || Number.isNaN(start) || Number.isNaN(end)) continue;
    frames.push({ start, end, url: new URL(m[1]!, vttUrl).toString(), x: +m[2]!, y: +m[3]!, w: +m[4]!, h: +m[5]! });
  }
  return frames;
}

/** The frame shown at `time` (s): the cue covering it, else the last one starting before it. */
export function frameAt(frames: readonly StoryboardFrame[], time: number): StoryboardFrame | null {
  let best: StoryboardFrame | null = null;
  for (const f of frames) {
    if (time >= f.start && time < f.end) return f;
    if (f.start <= time) best = f;
  }
  return best ?? frames[0] ?? null;
}

/** The inline style that shows one frame's region of the sprite, at its own size. */
export function frameStyle(f: StoryboardFrame): Record<string, string> {
  return {
    width: `${f.w}px`,
    height: `${f.h}px`,
    backgroundImage: `url(${JSON.stringify(f.url)})`,
    backgroundPosition: `-${f.x}px -${f.y}px`,
    backgroundRepeat: "no-repeat",
  };
}

/**
 * The time under a pointer at `clientX` over a seek bar spanning `left`..`left + width`, for a
 * video of `duration` s; a right-to-left bar runs from its right end.
 */
export function timeAtPointer(clientX: number, left: number, width: number, duration: number, rtl = false): number {
  if (!(width > 0) || !Number.isFinite(duration) || duration <= 0) return 0;
  const fraction = Math.min(1, Math.max(0, (clientX - left) / width));
  return (rtl ? 1 - fraction : fraction) * duration;
}
