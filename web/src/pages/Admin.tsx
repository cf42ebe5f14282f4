import { useEffect, useState } from "preact/hooks";
import {
  api,
  loadPages,
  type BudgetSettings,
  type CostEstimateResponse,
  type CostsResponse,
  type JobInfo,
  type VideoResponse,
} from "../lib/api.ts";
import { formatNumber, formatPercent, formatUsd, intlLocale } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { Link, usePoll } from "../lib/router.tsx";
import { useSession } from "../lib/session.tsx";
import { StatusBadge, statusWords } from "../components/Status.tsx";
import { CostChart } from "../components/CostChart.tsx";
import { InputField, Notice, ScrollTable } from "../components/Fields.tsx";
import { ApiKeysSection } from "./admin/ApiKeys.tsx";
import { WebhooksSection } from "./admin/Webhooks.tsx";
import { QoeSection } from "./admin/Qoe.tsx";

const currentMonth = () => new Date().toISOString().slice(0, 7);

/** The budget's two numbers, as form fields. */
const BUDGET_NUMBERS = [
  { field: "cap", label: "admin.cap", name: "monthlyCapUsd", inputMode: "decimal", min: 0, step: "0.01" },
  { field: "spike", label: "admin.spike", name: "spikeThresholdPct", inputMode: "numeric", min: 1, step: "1" },
] as const;

export function AdminPage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const token = session!.token;
  const [costs, setCosts] = useState<CostsResponse | null>(null);
  const [budget, setBudget] = useState<BudgetSettings | null>(null);
  const [form, setForm] = useState({ cap: "", spike: "", enabled: true });
  const [saved, setSaved] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [jobs, setJobs] = useState<(VideoResponse & { job?: JobInfo })[] | null>(null);
  const [jobNotice, setJobNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [users, setUsers] = useState("1000");
  const [estimate, setEstimate] = useState<CostEstimateResponse | null>(null);

  const fail = (err: unknown) => setError(t("common.error", { reason: (err as Error).message }));
  const loadCosts = () => api.costs(token, currentMonth()).then(setCosts, fail);
  // The table shows the newest pages; "Load more" adds one, and polling refreshes as many as are shown.
  const [jobPages, setJobPages] = useState(1);
  const [moreJobs, setMoreJobs] = useState(false);
  const loadJobs = (pages = jobPages) =>
    loadPages((cursor) => api.jobs(token, cursor), pages).then((r) => {
      setJobs(r.videos);
      setMoreJobs(r.more);
    }, fail);
  useEffect(() => {
    void loadCosts();
    void loadJobs();
    api.budget(token).then((b) => {
      setBudget(b);
      setForm({ cap: String(b.monthlyCapUsd), spike: String(b.spikeThresholdPct), enabled: b.transcodingEnabled });
    }, fail);
  }, []);
  usePoll(() => loadJobs(), 5000, true, [jobPages]);
  usePoll(loadCosts, 30_000, true);

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    setFormError(null);
    const cap = Number(form.cap);
    const spike = Number(form.spike);
    if (form.cap.trim() === "" || !Number.isFinite(cap) || cap < 0) return setFormError(t("admin.cap"));
    if (form.spike.trim() === "" || !Number.isFinite(spike) || spike < 1) return setFormError(t("admin.spike"));
    try {
      const b = await api.putBudget(token, { monthlyCapUsd: cap, spikeThresholdPct: spike, transcodingEnabled: form.enabled });
      setBudget(b);
      setSaved(true);
      void loadCosts();
      void loadJobs();
    } catch (err) {
      setFormError((err as Error).message);
    }
  };

  const act = async (v: VideoResponse, action: "retry" | "cancel" | "prioritize") => {
    try {
      const updated = await api[action](token, v.id);
      setJobNotice(t("admin.done", { title: v.title, status: statusWords(updated, t, lang) }));
      await loadJobs();
    } catch (err) {
      setJobNotice((err as Error).message);
    }
  };

  const cap = budget?.monthlyCapUsd ?? costs?.capUsd ?? 0;
  const spent = costs?.monthToDateUsd ?? 0;
  const capReached = costs !== null && spent >= cap;

  return (
    <section class="page admin-page">
      <h1>{t("admin.title")}</h1>
      <Notice kind="error">{error}</Notice>

      <div class="admin-grid">
        <div class="card" data-testid="spend">
          <h2>{t("admin.spend")}</h2>
          <p class="big-figure">{t("admin.spendOf", { spent: formatUsd(spent, lang), cap: formatUsd(cap, lang) })}</p>
          <meter min={0} max={Math.max(cap, 0.0001)} value={spent} high={cap * 0.8} optimum={0} aria-label={t("admin.spend")} />
          {capReached && <p class="notice error">{t("admin.capReached")}</p>}
        </div>

        <form class="card" onSubmit={save} data-testid="budget-form" noValidate>
          <h2>{t("admin.budget")}</h2>
          {BUDGET_NUMBERS.map((f) => (
            <InputField
              key={f.name}
              label={t(f.label)}
              name={f.name}
              type="number"
              inputMode={f.inputMode}
              min={f.min}
              step={f.step}
              value={form[f.field]}
              onValue={(value) => setForm({ ...form, [f.field]: value })}
            />
          ))}
          <label class="choice">
            <input
              name="transcodingEnabled"
              type="checkbox"
              checked={form.enabled}
              onChange={(e) => setForm({ ...form, enabled: (e.currentTarget as HTMLInputElement).checked })}
            />
            {t("admin.enabled")}
          </label>
          <Notice kind="error">{formError}</Notice>
          {saved && (
            <p class="notice ok" role="status">
              {t("admin.saved")}
            </p>
          )}
          <button type="submit" class="primary">
            {t("admin.save")}
          </button>
        </form>
      </div>

      <div class="card">
        <h2>{t("admin.chart", { month: costs?.month ?? currentMonth() })}</h2>
        {costs && costs.days.length > 0 ? (
          <CostChart days={costs.days} label={t("admin.chart", { month: costs.month })} lang={lang} />
        ) : (
          <p class="muted">{t("admin.chartEmpty")}</p>
        )}
        {costs?.compute && (costs.compute.vcpuSeconds > 0 || costs.compute.gibSeconds > 0) && (
          <p class="muted">
            {t("admin.compute", {
              vcpu: formatNumber(costs.compute.vcpuSeconds, lang, 1),
              gib: formatNumber(costs.compute.gibSeconds, lang, 1),
              usd: formatUsd(costs.compute.usd, lang),
            })}
          </p>
        )}
      </div>

      <QoeSection token={token} />

      <div class="card">
        <h2>{t("admin.alerts")}</h2>
        {costs && costs.alerts.length === 0 && <p class="muted">{t("admin.noAlerts")}</p>}
        <ul class="plain alerts">
          {costs?.alerts.map((a) => (
            <li key={`${a.day}-${a.kind}`} class="alert-item">
              <div class="alert-head">
                <strong dir="ltr">{a.day}</strong>
                <span class="muted">{formatUsd(a.usd, lang)}</span>
              </div>
              {/* The server writes alerts in English: keep them left-to-right inside an Arabic page. */}
              <p lang="en" dir="ltr" class="alert-message">
                {a.message}
              </p>
            </li>
          ))}
        </ul>
      </div>

      <form
        class="card"
        onSubmit={(e) => {
          e.preventDefault();
          const n = Math.max(0, Math.floor(Number(users)));
          api.estimate(token, n).then(setEstimate, fail);
        }}
      >
        <h2>{t("admin.estimate")}</h2>
        <div class="row">
          <label class="inline-field">
            <span>{t("admin.activeUsers")}</span>
            <input
              name="activeUsers"
              type="number"
              min={0}
              dir="ltr"
              value={users}
              onInput={(e) => setUsers((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
          <button type="submit">{t("common.refresh")}</button>
        </div>
        {estimate && (
          <p>
            {t("admin.estimateResult", {
              usd: formatUsd(estimate.estimateUsd, lang),
              projected: formatUsd(estimate.metered.projectedMonthUsd, lang),
            })}
          </p>
        )}
      </form>

      <div class="card">
        <h2>{t("admin.jobs")}</h2>
        <Notice kind="info">{jobNotice}</Notice>
        {jobs?.length === 0 && <p class="muted">{t("admin.noJobs")}</p>}
        {jobs && jobs.length > 0 && (
          <ScrollTable label={t("admin.jobs")}>
            <table class="jobs" data-testid="jobs">
              <thead>
                <tr>
                  <th scope="col">{t("admin.colVideo")}</th>
                  <th scope="col">{t("admin.colOwner")}</th>
                  <th scope="col">{t("admin.colStatus")}</th>
                  <th scope="col">{t("admin.colCreated")}</th>
                  <th scope="col">{t("admin.colActions")}</th>
                </tr>
              </thead>
              <tbody>
                {jobs.map((v) => (
                  <tr key={v.id} data-video-id={v.id} data-status={v.status}>
                    <td>
                      <Link href={`/watch/${encodeURIComponent(v.id)}`} dir="auto">
                        {v.title}
                      </Link>
                    </td>
                    <td dir="auto">{v.ownerId}</td>
                    <td>
                      <StatusBadge video={v} />
                      {v.status === "PROCESSING" && <span class="muted small"> {formatPercent(v.progress, lang)}</span>}
                      {v.job && v.job.attempts > 0 && (
                        <span class="muted small"> · {t("admin.attempts", { n: String(v.job.attempts) })}</span>
                      )}
                      {(v.error ?? v.job?.lastError) && (
                        <div class="muted small" lang="en" dir="auto">
                          {v.error ?? v.job?.lastError}
                        </div>
                      )}
                    </td>
                    <td class="small">
                      {new Date(v.createdAt).toLocaleString(intlLocale(lang), { dateStyle: "short", timeStyle: "short" })}
                    </td>
                    <td>
                      <div class="actions-cell">
                        {/* The server's lifecycle says what may be asked now; the page does not decide again. */}
                        {v.job?.actions.retry && (
                          <button type="button" class="small" onClick={() => void act(v, "retry")}>
                            {t("admin.retry")}
                          </button>
                        )}
                        {v.job?.actions.prioritize && (
                          <button type="button" class="small" onClick={() => void act(v, "prioritize")}>
                            {t("admin.prioritize")}
                          </button>
                        )}
                        {v.job?.actions.cancel && (
                          <button type="button" class="small danger" onClick={() => void act(v, "cancel")}>
                            {t("admin.cancel")}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollTable>
        )}
        {moreJobs && (
          <button
            type="button"
            onClick={() => {
              setJobPages(jobPages + 1);
              void loadJobs(jobPages + 1);
            }}
          >
            {t("admin.loadMore")}
          </button>
        )}
      </div>

      <ApiKeysSection />
      <WebhooksSection token={token} />
    </section>
  );
}
