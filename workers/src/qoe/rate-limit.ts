/**
 * A per-isolate limit on how fast one playback session may send beacons. A player sends one about
 * every 30 s; a burst far above that is a loop or a flood. The D1 cap (events per session) is the
 * hard limit across isolates; this one answers a burst without touching D1 at all.
 */
export const SESSION_BURST = 10;
export const SESSION_WINDOW_MS = 10_000;
/** Sessions remembered at once; beyond it the oldest windows are dropped (memory stays bounded). */
const MAX_TRACKED = 10_000;

export class SessionRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly burst = SESSION_BURST,
    private readonly windowMs = SESSION_WINDOW_MS,
  ) {}

  /** True when the session may send one more beacon now (and counts it). */
  allow(session: string, now: number): boolean {
    const w = this.windows.get(session);
    if (!w || now - w.start >= this.windowMs) {
      this.windows.delete(session);
      if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value as string);
      this.windows.set(session, { start: now, count: 1 });
      return true;
    }
    if (w.count >= this.burst) return false;
    w.count++;
    return true;
  }

  clear(): void {
    this.windows.clear();
  }
}
