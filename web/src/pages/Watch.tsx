import { useEffect, useState } from "preact/hooks";
import { api, type ApiError, isSettled, type VideoResponse } from "../lib/api.ts";
import { formatDuration } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { usePoll } from "../lib/router.tsx";
import { useSession } from "../lib/session.tsx";
import { Player } from "../components/Player.tsx";
import { StatusPanel } from "../components/Status.tsx";

export function WatchPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { session } = useSession();
  const [video, setVideo] = useState<VideoResponse | null>(null);
  const [playUrl, setPlayUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);

  const load = async () => {
    // The playback route answers for any signed-in viewer of a public video; the video route only
    // for its owner and admins — so ask for playback first and the details when allowed.
    const [details, playback] = await Promise.allSettled([
      api.video(session!.token, id),
      playUrl ? Promise.resolve({ url: playUrl }) : api.playback(session!.token, id),
    ]);
    if (details.status === "fulfilled") setVideo(details.value);
    if (playback.status === "fulfilled") setPlayUrl(playback.value.url);
    const failure = [details, playback].find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason as ApiError | undefined;
    if (playback.status === "rejected" && details.status === "rejected" && failure?.status === 404) setNotFound(true);
    else if (failure && failure.status !== 404 && failure.code !== "not_playable_yet")
      setError(t("common.error", { reason: failure.message }));
    else setError(null);
  };
  useEffect(() => void load(), [id]);
  const waiting = !notFound && (!playUrl || (video !== null && !isSettled(video)));
  usePoll(load, 3000, waiting, [id, playUrl]);

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
      {error && (
        <p class="notice error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
