import { formatDuration } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { useWatchedVideo } from "../lib/video-playback.ts";
import { Player } from "../components/Player.tsx";
import { StatusPanel } from "../components/Status.tsx";
import { Notice } from "../components/Fields.tsx";

export function WatchPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { video, playUrl, error, notFound } = useWatchedVideo(id, 3000);

  if (notFound)
    return (
      <p class="notice error" role="alert">
        {t("watch.notFound")}
      </p>
    );
  const title = video?.title ?? "";
  const poster = playUrl ? new URL("poster.jpg", playUrl).toString() : null;
  return (
    <section class="page watch-page" data-video-id={id}>
      <h1 dir="auto">{title || t("watch.title")}</h1>
      {playUrl ? (
        <Player url={playUrl} poster={poster} title={title} />
      ) : (
        <div class="still-processing" data-testid="still-processing">
          <p class="notice">{t("watch.stillProcessing")}</p>
        </div>
      )}
      {video && (video.status !== "READY" || !playUrl) && <StatusPanel video={video} />}
      {video && (
        <p class="meta muted">
          {video.durationSec !== null && <span>{t("watch.duration", { duration: formatDuration(video.durationSec) })}</span>}
          {video.visibility === "private" && <span>{t("watch.private")}</span>}
        </p>
      )}
      <Notice kind="error">{error}</Notice>
    </section>
  );
}
