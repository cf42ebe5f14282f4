/** Daily figures as bars (uPlot: ~50 KB, canvas, loaded only on the admin page): costs, views. */
import { useEffect, useMemo, useRef } from "preact/hooks";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatUsd, intlLocale, type Locale } from "../lib/format.ts";

/** Tick steps for counts (uPlot picks the smallest that fits). */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7];

export function CostChart(props: { days: { date: string; usd: number }[]; label: string; lang: Locale }) {
  const days = useMemo(() => props.days.map((d) => ({ date: d.date, value: d.usd })), [props.days]);
  return <DayChart days={days} label={props.label} lang={props.lang} format={formatUsd} minTop={0.01} />;
}

/**
 * One bar per day. `format` writes the y axis's values; `minTop` is the least top of the axis (so
 * a range of zeros still has one); `testId` names the chart for tests.
 */
export function DayChart(props: {
  days: { date: string; value: number }[];
  label: string;
  lang: Locale;
  format: (n: number, lang: Locale) => string;
  minTop: number;
  /** Counts: ticks on whole numbers only. */
  integer?: boolean;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | null = null;
    let observer: ResizeObserver | null = null;
    let cancelled = false;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled || !box.current) return;
      // An index scale (one slot per day) with the day as the label: a time scale invents
      // sub-day ticks and odd ranges when the month has only a day or two of data.
      const xs = props.days.map((_d, i) => i);
      const ys = props.days.map((d) => d.value);
      const width = () => Math.max(260, box.current?.clientWidth ?? 320);
      const dayFmt = new Intl.DateTimeFormat(intlLocale(props.lang), { day: "numeric", month: "short", timeZone: "UTC" });
      const label = (i: number) => {
        const d = props.days[Math.round(i)];
        return d ? dayFmt.format(new Date(`${d.date}T00:00:00Z`)) : "";
      };
      const step = () => Math.max(1, Math.ceil(props.days.length / Math.max(2, Math.floor(width() / 70))));
      plot = new UPlot(
        {
          width: width(),
          height: 220,
          legend: { show: false },
          cursor: { drag: { x: false, y: false } },
          scales: {
            x: { time: false, range: () => [-0.5, props.days.length - 0.5] },
            y: { range: (_u, _min, max) => [0, Math.max(max * 1.15, props.minTop)] },
          },
          axes: [
            {
              splits: () => xs.filter((i) => i % step() === 0),
              values: (_u, splits) => splits.map(label),
              stroke: "#555",
              grid: { show: false },
            },
            {
              values: (_u, splits) => splits.map((s) => props.format(s, props.lang)),
              size: 70,
              stroke: "#555",
              ...(props.integer ? { incrs: WHOLE_STEPS } : {}),
            },
          ],
          series: [
            {},
            {
              label: props.label,
              stroke: "#1d6fd8",
              fill: "rgba(29,111,216,0.35)",
              width: 1,
              paths: UPlot.paths.bars!({ size: [0.6, 40] }),
              points: { show: false },
            },
          ],
        },
        [xs, ys],
        box.current,
      );
      observer = new ResizeObserver(() => plot?.setSize({ width: width(), height: 220 }));
      observer.observe(box.current);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [props.days, props.lang]);
  return <div ref={box} class="chart" role="img" aria-label={props.label} dir="ltr" data-testid={props.testId} />;
}
