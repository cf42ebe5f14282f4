/** Pure formatting helpers (no DOM): sizes, speeds, durations, time left, money. */

export type Locale = "en" | "ar";

/** Intl locale per UI language: Egyptian Arabic digits for Arabic. */
export const intlLocale = (lang: Locale): string => (lang === "ar" ? "ar-EG" : "en-US");

export function formatNumber(n: number, lang: Locale, maxFractionDigits = 0): string {
  return new Intl.NumberFormat(intlLocale(lang), { maximumFractionDigits: maxFractionDigits }).format(n);
}

const BYTE_UNITS = { en: ["B", "KB", "MB", "GB"], ar: ["بايت", "ك.ب", "م.ب", "ج.ب"] } as const;

/** 1 KB = 1024 B, like the file pickers of phones. */
export function formatBytes(bytes: number, lang: Locale = "en"): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${formatNumber(value, lang, digits)} ${BYTE_UNITS[lang][unit]}`;
}

/** Bits per second, as links are sold: "9.6 Mbit/s". */
export function formatSpeed(bytesPerSecond: number, lang: Locale = "en"): string {
  const bits = Math.max(0, bytesPerSecond) * 8;
  const units = lang === "ar" ? ["بت/ث", "ك.بت/ث", "م.بت/ث", "ج.بت/ث"] : ["bit/s", "kbit/s", "Mbit/s", "Gbit/s"];
  let value = bits;
  let unit = 0;
  while (value >= 1000 && unit < 3) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${formatNumber(value, lang, digits)} ${units[unit]}`;
}

/** Media duration: "0:08", "12:34", "1:02:03". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "–";
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
}

/** Time left, rounded for a human: "45 s", "3 min", "1 h 20 min"; null when unknown. */
export function formatTimeLeft(seconds: number | null, lang: Locale = "en"): string | null {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return null;
  const n = (v: number) => formatNumber(v, lang);
  const [sec, min, hr] = lang === "ar" ? ["ث", "د", "س"] : ["s", "min", "h"];
  if (seconds < 60) return `${n(Math.max(1, Math.ceil(seconds)))} ${sec}`;
  if (seconds < 3600) return `${n(Math.ceil(seconds / 60))} ${min}`;
  const h = Math.floor(seconds / 3600);
  const m = Math.round((seconds % 3600) / 60);
  return m > 0 ? `${n(h)} ${hr} ${n(m)} ${min}` : `${n(h)} ${hr}`;
}

/** Watch time, to the unit people think in: "45 s", "12 min", "3 h 20 min". */
export function formatWatchTime(seconds: number, lang: Locale = "en"): string {
  const n = (v: number) => formatNumber(v, lang);
  const [sec, min, hr] = lang === "ar" ? ["ث", "د", "س"] : ["s", "min", "h"];
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${n(total)} ${sec}`;
  if (total < 3600) return `${n(Math.floor(total / 60))} ${min}`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  return m > 0 ? `${n(h)} ${hr} ${n(m)} ${min}` : `${n(h)} ${hr}`;
}

/** A short time measured in milliseconds (startup): "750 ms", "1.5 s"; "–" when unknown. */
export function formatMs(ms: number | null, lang: Locale = "en"): string {
  if (ms === null || !Number.isFinite(ms)) return "–";
  if (ms < 1000) return `${formatNumber(ms, lang)} ${lang === "ar" ? "م.ث" : "ms"}`;
  return `${formatNumber(ms / 1000, lang, 1)} ${lang === "ar" ? "ث" : "s"}`;
}

export function formatUsd(usd: number, lang: Locale = "en"): string {
  return new Intl.NumberFormat(intlLocale(lang), {
    style: "currency",
    currency: "USD",
    minimumFractionDigits: 2,
    maximumFractionDigits: usd !== 0 && Math.abs(usd) < 0.01 ? 4 : 2,
  }).format(usd);
}

export function formatPercent(pct: number, lang: Locale = "en"): string {
  return `${formatNumber(Math.floor(Math.min(100, Math.max(0, pct))), lang)}%`;
}

/**
 * Upload speed from (time, bytes) samples: an exponentially weighted average of the rate over
 * short windows, so one slow chunk or a resumed start does not swing the estimate.
 */
export class SpeedMeter {
  private lastAt: number | null = null;
  private lastBytes = 0;
  private rate: number | null = null;
  private readonly halfLifeMs: number;
  private readonly minWindowMs: number;

  constructor(halfLifeMs = 3000, minWindowMs = 250) {
    this.halfLifeMs = halfLifeMs;
    this.minWindowMs = minWindowMs;
  }

  /** Restart measuring from `bytes` (after a pause, a reload or a retry). */
  reset(bytes = 0, at: number | null = null): void {
    this.lastAt = at;
    this.lastBytes = bytes;
    this.rate = null;
  }

  /** Records that `bytes` have been sent by time `at` (ms); returns the current speed in bytes/s. */
  sample(bytes: number, at: number): number | null {
    if (this.lastAt === null || bytes < this.lastBytes) {
      this.lastAt = at;
      this.lastBytes = bytes;
      return this.rate;
    }
    const dt = at - this.lastAt;
    if (dt < this.minWindowMs) return this.rate;
    const current = ((bytes - this.lastBytes) * 1000) / dt;
    const weight = 1 - 0.5 ** (dt / this.halfLifeMs);
    this.rate = this.rate === null ? current : this.rate + weight * (current - this.rate);
    this.lastAt = at;
    this.lastBytes = bytes;
    return this.rate;
  }

  get bytesPerSecond(): number | null {
    return this.rate;
  }

  /** Seconds until `total` at the current speed; null while unknown. */
  secondsLeft(sent: number, total: number): number | null {
    if (this.rate === null || this.rate <= 0) return null;
    return Math.max(0, total - sent) / this.rate;
  }
}
