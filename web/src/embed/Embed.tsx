/**
 * /embed/:id: a bare player for an <iframe> on another site — no header, navigation or footer. The
 * poster comes first; the player engine (hls.js) is fetched only when the viewer presses play, so a
 * page that merely shows the embed costs a phone on metered data only this code and the poster.
 */
import { render } from "preact";
import { useState } from "preact/hooks";
import { I18nProvider, useI18n } from "../lib/i18n.tsx";
import { useWatchedVideo } from "../lib/video-playback.ts";
import { shareParam, watchUrl } from "../lib/viewer.ts";
import { Player } from "../components/Player.tsx";

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

  return (
    <div class="embed-page" data-video-id={id}>
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
