/**
 * HLS player: hls.js (light build, loaded on demand) tuned for slow links — start on the lowest
 * tier, a 500 kbit/s first estimate, tiers capped to the player's size — or the browser's own
 * HLS on Safari (see prefersNativeHls). A quality menu (Auto + each tier) and readable errors. What the viewer lives
 * through goes to the playback beacon (startup, stalls, time per tier, fatal errors); a seek bar
 * shows the storyboard's frames when the video has one.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type Hls from "hls.js";
import type { ErrorData, HlsConfig } from "hls.js";
import { useI18n } from "../lib/i18n.tsx";
import { loadHls, prefersNativeHls } from "../lib/hls-loader.ts";
import { trackPlayback } from "../lib/playback-session.ts";
import { sendWithToken } from "../lib/playback-beacon.ts";
import { SeekPreview } from "./SeekPreview.tsx";
import { parseVariants, tierName, type Variant } from "../lib/variants.ts";

export const HLS_CONFIG: Partial<HlsConfig> = {
  startLevel: 0,
  // From the beginning, also while the video is still being transcoded: its playlists then have no
  // end yet, and hls.js would otherwise start near the newest segment as for a live stream. (The
  // finished master has no #EXT-X-START any more, which ffmpeg-based clients mis-read.)
  startPosition: 0,
  abrEwmaDefaultEstimate: 500_000,
  capLevelToPlayerSize: true,
  // Do not hold megabytes ahead on a metered phone link; enough to ride out a short drop.
  maxBufferLength: 30,
  maxMaxBufferLength: 60,
  backBufferLength: 30,
};

interface Level {
  index: number;
  name: string;
}

/**
 * A segment the page's HTML preloaded reaches hls.js from the browser's memory in no time, and its
 * bandwidth estimate would jump (it asked for 720p at 1 Mbit/s): its load counts from the
 * preload's own start instead, so the estimate is what the link really did.
 */
function countFromPreload(url: string, stats: { loading: { start: number; first: number } }): void {
  const entry = performance
    .getEntriesByName(url, "resource")
    .find((e): e is PerformanceResourceTiming => (e as PerformanceResourceTiming).initiatorType === "link");
  if (!entry || entry.startTime >= stats.loading.start) return;
  stats.loading.start = entry.startTime;
  stats.loading.first = Math.max(entry.startTime, entry.responseStart);
}

const levelName = (l: { width: number; height: number; name?: string }) => (l.height ? tierName(l.width, l.height) : l.name || "?");

/**
 * The browser's own player on another playlist (a tier, or the master for Auto), from where the
 * viewer was and playing if it was: it offers no switch of its own.
 */
function playNative(video: HTMLVideoElement, url: string): void {
  const at = video.currentTime;
  const wasPlaying = !video.paused;
  video.src = url;
  video.addEventListener(
    "loadedmetadata",
    () => {
      video.currentTime = at;
      if (wasPlaying) void video.play().catch(() => {});
    },
    { once: true },
  );
}

export interface PlayerProps {
  url: string;
  poster?: string | null;
  title: string;
  /** Reported with the playback beacons; without it (the uploader's preview) nothing is reported. */
  videoId?: string;
  /** A private video's share token (from the page's `?share=`): the beacons carry it. */
  share?: string | null;
  /** The signed-in owner's (or admin's) token: their own private video counts only with it. */
  authToken?: string | null;
  /** The storyboard VTT, when the video has one: a seek bar that shows its frames. */
  storyboardUrl?: string | null;
  /** Start at once (the embed mounts the player when the viewer pressed play on its poster). */
  autoPlay?: boolean;
  /** `performance.now()` of that press: the startup time counts from it. */
  requestedAt?: number;
}

export function Player(props: PlayerProps) {
  const { t } = useI18n();
  const videoRef = useRef<HTMLVideoElement>(null);
  const hlsRef = useRef<Hls | null>(null);
  // The browser's own player: the master's tiers, each playable alone (the quality menu).
  const nativeVariantsRef = useRef<Variant[]>([]);
  // The viewing reported to the API: one session per page view, across retries.
  const sessionRef = useRef<ReturnType<typeof trackPlayback> | null>(null);
  const [videoEl, setVideoEl] = useState<HTMLVideoElement | null>(null);
  const [engine, setEngine] = useState<"hls.js" | "native" | null>(null);
  const [levels, setLevels] = useState<Level[]>([]);
  const [choice, setChoice] = useState<number>(-1);
  const [playing, setPlaying] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const video = videoRef.current!;
    setVideoEl(video);
    if (!props.videoId) return;
    const session = trackPlayback(video, {
      videoId: props.videoId,
      share: props.share,
      requestedAt: props.requestedAt,
      ...(props.authToken && !props.share ? { send: sendWithToken(props.authToken) } : {}),
    });
    sessionRef.current = session;
    return () => {
      // Leaving the video inside the app (another page) ends the viewing as leaving the page would.
      session.beacon.end();
      session.stop();
      sessionRef.current = null;
    };
  }, [props.videoId]);

  useEffect(() => {
    const video = videoRef.current!;
    let destroyed = false;
    let networkRetries = 0;
    let mediaRecoveries = 0;
    setError(null);
    setLevels([]);
    setPlaying(null);
    setChoice(-1);
    nativeVariantsRef.current = [];

    if (prefersNativeHls(video)) {
      setEngine("native");
      video.src = props.url;
      const onError = () => setError(t("watch.mediaError"));
      // The tier on screen: the picture's size is the only sign the browser's player gives of it.
      const onResize = () => {
        if (!video.videoWidth) return;
        const name = tierName(video.videoWidth, video.videoHeight);
        setPlaying(name);
        sessionRef.current?.beacon.setTier(name);
      };
      // The menu's tiers, once the picture is there (the master is small, and read from cache).
      const onMetadata = () => {
        video.removeEventListener("loadedmetadata", onMetadata);
        void fetch(props.url)
          .then((r) => (r.ok ? r.text() : ""))
          .then((text) => {
            if (destroyed) return;
            nativeVariantsRef.current = parseVariants(text, props.url);
            setLevels(nativeVariantsRef.current.map((v, index) => ({ index, name: v.name })));
          })
          .catch(() => {});
      };
      video.addEventListener("error", onError);
      video.addEventListener("resize", onResize);
      video.addEventListener("loadedmetadata", onMetadata);
      return () => {
        destroyed = true;
        for (const [type, fn] of [
          ["error", onError],
          ["resize", onResize],
          ["loadedmetadata", onMetadata],
        ] as const) {
          video.removeEventListener(type, fn);
        }
        video.removeAttribute("src");
        video.load();
      };
    }

    void loadHls().then(
      ({ default: HlsClass }) => {
        if (destroyed) return;
        if (!HlsClass.isSupported()) {
          if (video.canPlayType("application/vnd.apple.mpegurl")) {
            setEngine("native");
            video.src = props.url;
          } else {
            setError(t("watch.mediaError"));
          }
          return;
        }
        setEngine("hls.js");
        const hls = new HlsClass(HLS_CONFIG);
        hlsRef.current = hls;
        hls.on(HlsClass.Events.MANIFEST_PARSED, (_e, data) => {
          setLevels(data.levels.map((l, index) => ({ index, name: levelName(l) })));
        });
        hls.on(HlsClass.Events.LEVEL_SWITCHED, (_e, data) => {
          const level = hls.levels[data.level];
          if (!level) return;
          setPlaying(levelName(level));
          // "seconds watched per tier": the time so far goes to the previous tier.
          sessionRef.current?.beacon.setTier(levelName(level));
        });
        hls.on(HlsClass.Events.FRAG_LOADED, (_e, data) => {
          // Before hls.js samples it (on FRAG_BUFFERED): see countFromPreload.
          if (data.frag.sn === 0) countFromPreload(data.frag.url, data.frag.stats);
          networkRetries = 0;
          setError(null);
        });
        hls.on(HlsClass.Events.ERROR, (_e, data: ErrorData) => {
          if (!data.fatal) return;
          sessionRef.current?.fail(`${data.type}: ${data.details}`);
          if (data.type === HlsClass.ErrorTypes.NETWORK_ERROR) {
            const status = data.response?.code ?? 0;
            if (status === 403 || status === 404) {
              setError(t("watch.notFound"));
              hls.destroy();
              return;
            }
            // A slow or dropping link: keep trying with a growing pause, say so meanwhile.
            setError(t("watch.networkError"));
            networkRetries++;
            setTimeout(() => !destroyed && hls.startLoad(), Math.min(30_000, 1000 * 2 ** Math.min(networkRetries, 5)));
          } else if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && mediaRecoveries < 2) {
            mediaRecoveries++;
            hls.recoverMediaError();
          } else {
            setError(t("watch.error", { reason: data.details }));
            hls.destroy();
          }
        });
        hls.loadSource(props.url);
        hls.attachMedia(video);
      },
      () => setError(t("watch.networkError")),
    );

    return () => {
      destroyed = true;
      hlsRef.current?.destroy();
      hlsRef.current = null;
    };
    // `t` changes with the language; the player must not restart for that.
  }, [props.url, attempt]);

  const onQuality = (e: Event) => {
    const index = Number((e.currentTarget as HTMLSelectElement).value);
    setChoice(index);
    const variants = nativeVariantsRef.current;
    if (engine === "native" && variants.length > 0) {
      playNative(videoRef.current!, index === -1 ? props.url : variants[index]!.url);
      return;
    }
    const hls = hlsRef.current;
    if (!hls) return;
    // Manual choice: switch now (flushes the buffer ahead); Auto: let the ABR decide from here.
    if (index === -1) hls.currentLevel = -1;
    else hls.currentLevel = index;
  };

  // With hls.js the page's own preloads bring the first segment, and the video paints its first
  // frame as soon as it is buffered: a poster (≈ 30 KB) would only share the slow link with the
  // engine and that segment (measured at 1 Mbit/s + 80 ms, median of 5 interleaved: first frame
  // 2.54 s with it, 2.04 s without). The browser's own player loads nothing before play (iOS), so
  // it shows the poster; so does the embed, whose poster was its first paint and is in the cache.
  const showPoster = engine === "native" || props.autoPlay === true;
  const autoLabel = choice === -1 && playing ? t("watch.autoNow", { level: playing }) : t("watch.auto");

  return (
    <div class="player" data-engine={engine ?? ""} data-level={playing ?? ""}>
      {/* biome-ignore lint/a11y/useMediaCaption: creators upload no caption tracks yet; the player shows them once they exist. */}
      <video
        ref={videoRef}
        controls
        playsInline
        autoPlay={props.autoPlay}
        preload="metadata"
        poster={showPoster ? (props.poster ?? undefined) : undefined}
        aria-label={props.title}
      />
      {videoEl && props.storyboardUrl && <SeekPreview video={videoEl} storyboardUrl={props.storyboardUrl} />}
      <div class="player-bar">
        {levels.length > 0 ? (
          <label class="inline-field">
            <span>{t("watch.quality")}</span>
            <select value={String(choice)} onChange={onQuality} data-testid="quality">
              <option value="-1">{autoLabel}</option>
              {levels.map((l) => (
                <option key={l.index} value={String(l.index)}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
        ) : engine === "native" ? (
          <span class="muted">{t("watch.nativeQuality")}</span>
        ) : null}
        {playing && (
          <span class="muted" data-testid="playing-level">
            {t("watch.playing", { level: playing })}
          </span>
        )}
      </div>
      {error && (
        <p class="notice error" role="alert">
          {error}{" "}
          <button type="button" class="link-button" onClick={() => setAttempt((a) => a + 1)}>
            {t("watch.retry")}
          </button>
        </p>
      )}
    </div>
  );
}
