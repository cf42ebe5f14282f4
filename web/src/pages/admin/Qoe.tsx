import { useEffect, useMemo, useState } from "preact/hooks";
import { request } from "../../lib/api.ts";
import { formatMs, formatNumber, formatWatchTime, intlLocale, type Locale } from "../../lib/format.ts";
import { useI18n } from "../../lib/i18n.tsx";
import { Notice } from "../../components/Fields.tsx";
import { DayChart } from "../../components/CostChart.tsx";
import type { PlaybackStatsResponse } from "../../../../contract/api.ts";

/** The ranges the admin picks from (the API takes 1 to 90 days). */
const PERIODS = [7, 30, 90] as const;
const PERIOD_LABEL = { 7: "qoe.days7", 30: "qoe.days30", 90: "qoe.days90" } as const;

const qoe = (token: string, days: number) => request<PlaybackStatsResponse>(token, "GET", `/api/admin/qoe?days=${days}`);

/** A country code as its name in the page's language ("EG" → "Egypt" / "مصر"); "XX" is unknown. */
function countryName(code: string, lang: Locale, unknown: string): string {
  if (code === "XX") return unknown;
  try {
    return new Intl.DisplayNames([intlLocale(lang)], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** Admin: views and playback quality over all videos (startup, rebuffering, countries, tiers) for 7, 30 or 90 days. */
export function QoeSection({ token }: { token: string }) {
  const { t, lang } = useI18n();
  const [days, setDays] = useState<number>(7);
  const [stats, setStats] = useState<PlaybackStatsResponse | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let current = true;
    qoe(token, days).then(
      (s) => {
        if (!current) return;
        setStats(s);
        setError(null);
      },
      (err: unknown) => current && setError(t("common.error", { reason: (err as Error).message })),
    );
    return () => {
      current = false;
    };
  }, [days]);

  const chartDays = useMemo(() => stats?.byDay.map((d) => ({ date: d.date, value: d.views })) ?? [], [stats]);
  const n = (v: number) => formatNumber(v, lang);

  return (
    <section class="card qoe" data-testid="qoe" aria-labelledby="qoe-title">
      <div class="qoe-head">
        <h2 id="qoe-title">{t("qoe.title")}</h2>
        <label class="inline-field">
          <span>{t("qoe.period")}</span>
          <select name="qoeDays" value={String(days)} onChange={(e) => setDays(Number((e.currentTarget as HTMLSelectElement).value))}>
            {PERIODS.map((p) => (
              <option key={p} value={String(p)}>
                {t(PERIOD_LABEL[p], { n: n(p) })}
              </option>
            ))}
          </select>
        </label>
      </div>
      <p class="muted small">{t("qoe.intro")}</p>
      <Notice kind="error">{error}</Notice>
      {stats && (
        <>
          <dl class="qoe-figures">
            <div>
              <dt>{t("qoe.views")}</dt>
              <dd data-testid="qoe-views">{n(stats.views)}</dd>
            </div>
            <div>
              <dt>{t("qoe.watchTime")}</dt>
              <dd data-testid="qoe-watch">{formatWatchTime(stats.watchSeconds, lang)}</dd>
            </div>
            <div>
              <dt>{t("qoe.startup")}</dt>
              <dd data-testid="qoe-startup">
                <bdi>{formatMs(stats.startupMsP50, lang)}</bdi> / <bdi>{formatMs(stats.startupMsP95, lang)}</bdi>
              </dd>
            </div>
            <div>
              <dt title={t("qoe.rebufferHint")}>{t("qoe.rebuffer")}</dt>
              <dd data-testid="qoe-rebuffer">
                {new Intl.NumberFormat(intlLocale(lang), { style: "percent", maximumFractionDigits: 1 }).format(stats.rebufferRatio)}
              </dd>
            </div>
          </dl>

          <h3>{t("qoe.chart")}</h3>
          {stats.views > 0 ? (
            <DayChart
              key={days}
              days={chartDays}
              label={`${t("qoe.chart")}: ${t(PERIOD_LABEL[days as 7 | 30 | 90], { n: n(days) })}`}
              lang={lang}
              format={(v, l) => formatNumber(v, l)}
              minTop={4}
              integer
              testId="qoe-chart"
            />
          ) : (
            <p class="muted">{t("qoe.empty")}</p>
          )}

          <div class="admin-grid">
            <div>
              <h3>{t("qoe.byCountry")}</h3>
              <table class="jobs qoe-table" data-testid="qoe-countries">
                <thead>
                  <tr>
                    <th scope="col">{t("qoe.colCountry")}</th>
                    <th scope="col">{t("qoe.colViews")}</th>
                    <th scope="col">{t("qoe.colStartup")}</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.byCountry.map((c) => (
                    <tr key={c.country} data-country={c.country}>
                      <td>{countryName(c.country, lang, t("qoe.unknownCountry"))}</td>
                      <td>{n(c.views)}</td>
                      <td>{formatMs(c.startupMsP50, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div>
              <h3>{t("qoe.byTier")}</h3>
              <table class="jobs qoe-table" data-testid="qoe-tiers">
                <thead>
                  <tr>
                    <th scope="col">{t("qoe.colTier")}</th>
                    <th scope="col">{t("qoe.colTime")}</th>
                  </tr>
                </thead>
                <tbody>
                  {stats.byTier.map((tier) => (
                    <tr key={tier.tier} data-tier={tier.tier}>
                      <td>
                        <bdi>{tier.tier}</bdi>
                      </td>
                      <td>{formatWatchTime(tier.seconds, lang)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
