import { useState } from "preact/hooks";
import { formatDuration } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { isFullCard } from "../lib/api.ts";
import { useSession } from "../lib/session.tsx";
import { useWatchedVideo } from "../lib/video-playback.ts";
import { shareParam } from "../lib/viewer.ts";
import { Player } from "../components/Player.tsx";
import { StatusPanel } from "../components/Status.tsx";
import { Notice } from "../components/Fields.tsx";
import { ShareControls } from "../components/Share.tsx";
import { DownloadLink, DownloadToggle } from "../components/Download.tsx";

/**
 * One video, for anyone who may watch it: signed out for a public video or through a share link.
 * The state panel and the private marker need the owner's details; the share controls the owner.
 */
export function WatchPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { session } = useSession();
  const { video, playUrl, error, notFound } = useWatchedVideo(id, 3000);
  const [share] = useState(() => shareParam(location.search));

  if (notFound)
    return (
      <p class="notice error" role="alert">
        {t("watch.notFound")}
      </p>
    );
  const title = video?.title ?? "";
  const poster = playUrl ? new URL("poster.jpg", playUrl).toString() : null;
  const full = video && isFullCard(video) ? video : null;
  const mine = video !== null && session !== null && video.ownerId === session.userId;
  return (
    <section class="page watch-page" data-video-id={id}>
      <h1 dir="auto">{title || t("watch.title")}</h1>
      {playUrl ? (
        <Player
          url={playUrl}
          poster={poster}
          title={title}
          videoId={id}
          share={share}
          authToken={full && session ? session.token : null}
          storyboardUrl={video?.storyboardUrl ?? null}
        />
      ) : (
        <div class="still-processing" data-testid="still-processing">
          <p class="notice">{t("watch.stillProcessing")}</p>
        </div>
      )}
      {full && (full.status !== "READY" || !playUrl) && <StatusPanel video={full} />}
      {video && (
        <p class="meta muted">
          {video.durationSec !== null && <span>{t("watch.duration", { duration: formatDuration(video.durationSec) })}</span>}
          {full && full.visibility === "private" && <span>{t("watch.private")}</span>}
        </p>
      )}
      {video && <DownloadLink video={video} />}
      {mine && <DownloadToggle video={video} key={`${video.id}:${video.downloadable}`} />}
      {mine && <ShareControls video={video} key={video.visibility} />}
      <Notice kind="error">{error}</Notice>
    </section>
  );
}
