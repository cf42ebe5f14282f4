import { useEffect, useState } from "preact/hooks";
import { type ApiError, api, isSettled, type VideoCard } from "./api.ts";
import { useI18n } from "./i18n.tsx";
import { usePoll } from "./router.tsx";
import { useSession } from "./session.tsx";
import { shareParam } from "./viewer.ts";

export interface WatchedVideo {
  /** The details (owner, admin) or the viewer's card, when the API shows them to this viewer. */
  video: VideoCard | null;
  /** The master playlist to play, once the video can play. */
  playUrl: string | null;
  error: string | null;
  /** Neither the details nor a playback URL exist for this viewer. */
  notFound: boolean;
}

/**
 * The master playlist the server's HTML already named for this video (its preload, marked
 * `data-playback`): the player starts on it at once, without waiting for /playback, and finds the
 * playlists the browser is already fetching. Only for the page's own video.
 */
export function preloadedPlayback(id: string): string | null {
  const link = document.querySelector<HTMLLinkElement>("link[rel=preload][data-playback]");
  if (!link) return null;
  const url = new URL(link.href);
  return url.origin === location.origin && url.pathname.startsWith(`/videos/${id}/`) ? url.toString() : null;
}

/**
 * A video's state and playback URL, polled every `intervalMs` until it is settled and playing.
 * Signed out too: without a session no token is sent (a public video answers anyone), and the
 * page's `?share=<token>` goes with both calls (a private video's share link). Both are asked, and
 * a 404 from one of them alone is not "not found". Once the details say the video cannot play yet,
 * only they are polled until it can.
 */
export function useWatchedVideo(id: string, intervalMs: number): WatchedVideo {
  const { t } = useI18n();
  const { session } = useSession();
  const [share] = useState(() => shareParam(location.search));
  const [video, setVideo] = useState<VideoCard | null>(null);
  const [playUrl, setPlayUrl] = useState<string | null>(() => preloadedPlayback(id));
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  // The details answered 404 while the video plays: nothing more will come by asking again.
  const [detailsHidden, setDetailsHidden] = useState(false);

  const load = async () => {
    const token = session?.token ?? null;
    const askPlayback = !playUrl && (video === null || video.playable);
    const [details, playback] = await Promise.allSettled([
      api.video(token, id, share),
      askPlayback ? api.playback(token, id, share) : Promise.resolve(playUrl ? { url: playUrl } : null),
    ]);
    if (details.status === "fulfilled") setVideo(details.value);
    if (playback.status === "fulfilled" && playback.value) setPlayUrl(playback.value.url);
    // A video that just became playable: its URL is asked for at once, not on the next tick.
    if (details.status === "fulfilled" && details.value.playable && !askPlayback && !playUrl) {
      setPlayUrl((await api.playback(token, id, share)).url);
    }
    const failure = [details, playback].find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason as ApiError | undefined;
    setDetailsHidden(details.status === "rejected" && (details.reason as ApiError).status === 404 && playback.status === "fulfilled");
    if (playback.status === "rejected" && details.status === "rejected" && failure?.status === 404) setNotFound(true);
    else if (failure && failure.status !== 404 && failure.code !== "not_playable_yet")
      setError(t("common.error", { reason: failure.message }));
    else setError(null);
  };
  useEffect(() => void load(), [id]);
  const waiting = !notFound && !(playUrl && detailsHidden) && (!playUrl || video === null || !isSettled(video));
  usePoll(load, intervalMs, waiting, [id, playUrl, video?.playable]);
  return { video, playUrl, error, notFound };
}
