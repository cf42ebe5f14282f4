import type { VideoResponse } from "../lib/api.ts";
import { formatPercent } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import type { StringKey } from "../lib/strings.ts";

/** The state of a video in words (and the server's sentence when it explains more). */
export function statusWords(v: Pick<VideoResponse, "status" | "progress">, t: ReturnType<typeof useI18n>["t"], lang: "en" | "ar"): string {
  return t(`status.${v.status}` as StringKey, { percent: formatPercent(v.progress, lang) });
}

export function StatusBadge({ video }: { video: VideoResponse }) {
  const { t, lang } = useI18n();
  return (
    <span class={`badge badge-${video.status.toLowerCase()}`} data-status={video.status}>
      {statusWords(video, t, lang)}
    </span>
  );
}

/** Status in words with a progress bar while processing, the reason when failed. */
export function StatusPanel({ video }: { video: VideoResponse }) {
  const { t, lang } = useI18n();
  const processing = video.status === "PROCESSING";
  return (
    <div class="status-panel" data-status={video.status} role="status" aria-live="polite">
      <p class="status-line">
        <StatusBadge video={video} />
      </p>
      {processing && (
        <progress max={100} value={video.progress} aria-label={statusWords(video, t, lang)}>
          {formatPercent(video.progress, lang)}
        </progress>
      )}
      {video.status === "FAILED" && (video.error || video.message) && (
        <p class="notice error">{t("status.failedReason", { reason: video.error || video.message })}</p>
      )}
      {(video.status === "HELD" || video.status === "CANCELLED") && video.message && (
        <p class="muted" lang="en" dir="auto">
          {video.message}
        </p>
      )}
      {processing && video.playable && <p class="muted">{t("status.playableEarly")}</p>}
    </div>
  );
}
