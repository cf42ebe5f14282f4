import { useEffect, useState } from "preact/hooks";
import { api, isSettled, loadPages, type VideoResponse } from "../lib/api.ts";
import { formatDuration, formatNumber, formatWatchTime, intlLocale } from "../lib/format.ts";
import type { PlaybackTotals } from "../../../contract/playback-events.ts";
import { useI18n } from "../lib/i18n.tsx";
import { Link, usePoll } from "../lib/router.tsx";
import { useSession } from "../lib/session.tsx";
import { StatusBadge } from "../components/Status.tsx";
import { Notice } from "../components/Fields.tsx";
import { ShareControls } from "../components/Share.tsx";
import { DownloadToggle } from "../components/Download.tsx";

/** A video of the list: with its all-time views and watch time, which an update's answer does not carry. */
type ListedVideo = VideoResponse & PlaybackTotals;
const updatedIn = (list: ListedVideo[] | null, updated: VideoResponse) =>
  list?.map((x) => (x.id === updated.id ? { ...x, ...updated } : x)) ?? null;

export function VideosPage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const [videos, setVideos] = useState<ListedVideo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const load = async () => {
    try {
      // Every page: a creator's own videos are few enough to show at once.
      const list = await loadPages((cursor) => api.videos(session!.token, cursor));
      // An admin's list holds everyone's videos; this page is about one's own.
      setVideos(list.videos.filter((v) => v.ownerId === session!.userId));
      setError(null);
    } catch (err) {
      setError(t("common.error", { reason: (err as Error).message }));
    }
  };
  useEffect(() => void load(), []);
  usePoll(load, 5000, videos?.some((v) => !isSettled(v)) ?? false, [videos?.length]);

  const remove = async (v: VideoResponse) => {
    if (!confirm(t("videos.deleteConfirm", { title: v.title }))) return;
    try {
      await api.deleteVideo(session!.token, v.id);
      setVideos((list) => list?.filter((x) => x.id !== v.id) ?? null);
      setNotice(t("videos.deleted", { title: v.title }));
    } catch (err) {
      setError(t("common.error", { reason: (err as Error).message }));
    }
  };
  const setVisibility = async (v: VideoResponse, visibility: "public" | "private") => {
    try {
      const updated = await api.updateVideo(session!.token, v.id, { visibility });
      setVideos((list) => updatedIn(list, updated));
    } catch (err) {
      setError(t("common.error", { reason: (err as Error).message }));
    }
  };

  return (
    <section class="page videos-page">
      <h1>{t("videos.title")}</h1>
      <Notice kind="ok">{notice}</Notice>
      <Notice kind="error">{error}</Notice>
      {videos === null && !error && <p class="muted">{t("common.loading")}</p>}
      {videos?.length === 0 && (
        <p>
          {t("videos.empty")} <Link href="/">{t("videos.uploadFirst")}</Link>
        </p>
      )}
      <ul class="video-grid plain">
        {videos?.map((v) => (
          <li key={v.id} class="video-card" data-video-id={v.id} data-status={v.status}>
            <Link href={`/watch/${encodeURIComponent(v.id)}`} class="thumb" aria-label={`${t("videos.watch")}: ${v.title}`}>
              {/* Private posters need the signed playback path; the list shows a placeholder for them. */}
              {v.posterUrl ? (
                <img src={v.posterUrl} alt="" loading="lazy" width={320} height={180} />
              ) : (
                <span class="no-poster">{t("videos.noPoster")}</span>
              )}
              {v.durationSec !== null && <span class="duration">{formatDuration(v.durationSec)}</span>}
            </Link>
            <div class="video-info">
              <h2 dir="auto">{v.title}</h2>
              <StatusBadge video={v} />
              {/* Nothing to count before a video can play (unless it played before, say, a retry). */}
              {(v.playable || v.views > 0) && (
                <p class="stats small play-stats" data-testid="play-stats">
                  <span>
                    {t("videos.views")}: <strong data-testid="views">{formatNumber(v.views, lang)}</strong>
                  </span>
                  <span>
                    {t("videos.watchTime")}: <strong data-testid="watch-time">{formatWatchTime(v.watchSeconds, lang)}</strong>
                  </span>
                </p>
              )}
              <p class="muted small">
                {t("videos.created", { date: new Date(v.createdAt).toLocaleDateString(intlLocale(lang), { dateStyle: "medium" }) })}
              </p>
              <div class="actions">
                <label class="inline-field">
                  <span>{t("videos.visibility")}</span>
                  <select
                    value={v.visibility}
                    onChange={(e) => void setVisibility(v, (e.currentTarget as HTMLSelectElement).value as "public" | "private")}
                  >
                    <option value="public">{t("videos.public")}</option>
                    <option value="private">{t("videos.private")}</option>
                  </select>
                </label>
                <button type="button" class="danger small" onClick={() => void remove(v)} aria-label={`${t("videos.delete")}: ${v.title}`}>
                  {t("videos.delete")}
                </button>
              </div>
              <DownloadToggle
                video={v}
                key={`${v.id}:${v.downloadable}`}
                onChange={(updated) => setVideos((list) => updatedIn(list, updated))}
              />
              <ShareControls video={v} key={v.visibility} />
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
