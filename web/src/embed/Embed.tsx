/**
 * /embed/:id: a bare player for an <iframe> on another site — no header, navigation or footer. The
 * poster comes first; the player engine (hls.js) follows once the poster is painted and the embed
 * is on screen (useEngineAfterPoster), or at the press when the viewer saves data; the video's
 * segments only after the press.
 */
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { I18nProvider, useI18n } from "../lib/i18n.tsx";
import { useWatchedVideo } from "../lib/video-playback.ts";
import { shareParam, watchUrl } from "../lib/viewer.ts";
import { Player } from "../components/Player.tsx";
import { loadHls, prefersNativeHls } from "../lib/hls-loader.ts";

export function mountEmbed(root: HTMLElement, id: string): void {
  // Fills the frame on black (styles.css: html.embed).
  document.documentElement.classList.add("embed");
  render(
    <I18nProvider>
      <EmbedPage id={id} />
    </I18nProvider>,
    root,
  );
}

export function EmbedPage({ id }: { id: string }) {
  const { t } = useI18n();
  const { video, playUrl, error, notFound } = useWatchedVideo(id, 5000);
  // `performance.now()` of the press on the poster: the startup time the player reports counts from it.
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [share] = useState(() => shareParam(location.search));
  const title = video?.title ?? "";
  const poster = playUrl ? new URL("poster.jpg", playUrl).toString() : (video?.posterUrl ?? null);
  const pageRef = useRef<HTMLDivElement>(null);
  useEngineAfterPoster(pageRef, playUrl ? poster : null);

  return (
    <div class="embed-page" data-video-id={id} ref={pageRef}>
      {notFound ? (
        <p class="embed-message" role="alert">
          {t("watch.notFound")}
        </p>
      ) : startedAt !== null && playUrl ? (
        <Player
          url={playUrl}
          poster={poster}
          title={title}
          videoId={id}
          share={share}
          storyboardUrl={video?.storyboardUrl ?? null}
          autoPlay
          requestedAt={startedAt}
        />
      ) : (
        <button
          type="button"
          class="embed-poster"
          disabled={!playUrl}
          onClick={() => setStartedAt(performance.now())}
          aria-label={t("embed.play", { title })}
          style={poster ? { backgroundImage: `url(${JSON.stringify(poster)})` } : undefined}
        >
          <span class="embed-play" aria-hidden="true" />
        </button>
      )}
      {!notFound && error && (
        <p class="embed-message" role="alert">
          {error}
        </p>
      )}
      {/* The page it comes from, in a new tab: the embedding site stays open. */}
      <a class="embed-title" href={watchUrl(id, share)} target="_blank" rel="noopener" dir="auto">
        {title || t("embed.watchOn", { app: t("app.name") })}
      </a>
    </div>
  );
}

/**
 * The engine (hls.js, ≈ 115 KB) starts downloading once the poster is painted and the embed is on
 * screen, so that a press finds it (mostly) there: at 1 Mbit/s it alone takes about a second after
 * the press otherwise. Not before the poster (the first paint keeps the link to itself), not for an
 * embed scrolled past, and not when the viewer asked to save data (Save-Data): then at the press.
 */
function useEngineAfterPoster(page: { current: HTMLElement | null }, poster: string | null): void {
  useEffect(() => {
    const saveData = (navigator as { connection?: { saveData?: boolean } }).connection?.saveData === true;
    if (!poster || !page.current || saveData || prefersNativeHls()) return;
    let painted = false;
    let visible = false;
    const start = () => painted && visible && void loadHls().catch(() => {});
    const image = new Image();
    image.onload = image.onerror = () => {
      painted = true;
      start();
    };
    image.src = poster;
    const observer = new IntersectionObserver((entries) => {
      visible = entries.some((e) => e.isIntersecting);
      start();
    });
    observer.observe(page.current);
    return () => {
      image.onload = image.onerror = null;
      observer.disconnect();
    };
  }, [poster]);
}
