/**
 * A seek bar (a native range input) that shows the storyboard frame under the pointer or finger
 * while hovering or dragging, and seeks when it is let go. The storyboard (VTT, then its sprite)
 * is fetched on the first hover, touch or focus, never before: the page is for slow mobile links
 * and the first frame must not wait behind it.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { formatDuration } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { frameAt, frameStyle, parseStoryboard, type StoryboardFrame, timeAtPointer } from "../lib/storyboard.ts";

export function SeekPreview(props: { video: HTMLVideoElement; storyboardUrl: string }) {
  const { t } = useI18n();
  const { video } = props;
  const barRef = useRef<HTMLInputElement>(null);
  const [duration, setDuration] = useState(video.duration);
  const [current, setCurrent] = useState(video.currentTime);
  const [frames, setFrames] = useState<StoryboardFrame[] | null>(null);
  const loading = useRef(false);
  const dragging = useRef(false);
  // What the preview shows: a time and where above the bar (px from its start edge), or nothing.
  const [preview, setPreview] = useState<{ time: number; left: number } | null>(null);

  useEffect(() => {
    const onDuration = () => setDuration(video.duration);
    // Not while dragging: the thumb stays where the finger put it.
    const onTime = () => !dragging.current && setCurrent(video.currentTime);
    video.addEventListener("durationchange", onDuration);
    video.addEventListener("loadedmetadata", onDuration);
    video.addEventListener("timeupdate", onTime);
    video.addEventListener("seeked", onTime);
    return () => {
      video.removeEventListener("durationchange", onDuration);
      video.removeEventListener("loadedmetadata", onDuration);
      video.removeEventListener("timeupdate", onTime);
      video.removeEventListener("seeked", onTime);
    };
  }, [video]);

  const load = () => {
    if (loading.current) return;
    loading.current = true;
    const url = new URL(props.storyboardUrl, location.href).toString();
    fetch(url)
      .then((res) => (res.ok ? res.text() : ""))
      .then((text) => {
        const parsed = parseStoryboard(text, url);
        setFrames(parsed);
        // Ask for the sprite now, so that it is there by the time the pointer moves on.
        if (parsed[0]) new Image().src = parsed[0].url;
      })
      // No storyboard: seeking works as before, without pictures; a later hover tries again.
      .catch(() => {
        loading.current = false;
      });
  };

  const bar = () => barRef.current!.getBoundingClientRect();
  const rtl = () => getComputedStyle(barRef.current!).direction === "rtl";
  const showAtPointer = (clientX: number): number => {
    const r = bar();
    const time = timeAtPointer(clientX, r.left, r.width, duration, rtl());
    setPreview({ time, left: clientX - r.left });
    return time;
  };
  // When a pointer's drag ended with a seek: the bar's own `change` that may follow is the same seek.
  const pointerSeekAt = useRef(0);
  /** From the bar's value (a finger dragging the thumb, or the keyboard): above the thumb. */
  const showAtValue = (time: number) => {
    const r = bar();
    const fraction = duration > 0 ? time / duration : 0;
    setPreview({ time, left: (rtl() ? 1 - fraction : fraction) * r.width });
  };

  if (!Number.isFinite(duration) || duration <= 0) return null;
  const frame = preview && frames ? frameAt(frames, preview.time) : null;
  const width = barRef.current?.getBoundingClientRect().width ?? 0;
  const half = (frame?.w ?? 0) / 2;
  // Kept inside the bar's width, so the frame is never cut by the player's edges.
  const left = preview ? Math.min(Math.max(preview.left, half), Math.max(half, width - half)) : 0;

  return (
    // Left to right in Arabic too, like the video's own timeline just above it.
    <div class="seek" dir="ltr">
      {preview && (
        <div class="seek-preview" data-testid="seek-preview" data-time={preview.time.toFixed(2)} style={{ left: `${left}px` }}>
          {frame && (
            <div
              class="seek-frame"
              data-testid="seek-frame"
              role="img"
              aria-label={t("seek.preview", { time: formatDuration(preview.time) })}
              style={frameStyle(frame)}
            />
          )}
          <span class="seek-time">{formatDuration(preview.time)}</span>
        </div>
      )}
      <input
        ref={barRef}
        type="range"
        min={0}
        max={duration}
        step="any"
        value={current}
        aria-label={t("seek.label")}
        aria-valuetext={formatDuration(current)}
        data-testid="seek"
        onFocus={load}
        onPointerEnter={(e) => {
          load();
          if (e.pointerType === "mouse") showAtPointer(e.clientX);
        }}
        onPointerMove={(e) => {
          if (dragging.current) setCurrent(showAtPointer(e.clientX));
          else if (e.pointerType === "mouse") showAtPointer(e.clientX);
        }}
        onPointerLeave={() => !dragging.current && setPreview(null)}
        onPointerDown={(e) => {
          load();
          dragging.current = true;
          // Moves outside the bar still belong to this drag (a finger is wider than the bar).
          e.currentTarget.setPointerCapture(e.pointerId);
          setCurrent(showAtPointer(e.clientX));
        }}
        onInput={(e) => {
          load();
          const time = Number((e.currentTarget as HTMLInputElement).value);
          setCurrent(time);
          showAtValue(time);
        }}
        onChange={(e) => {
          // The keyboard (or a drag the pointer events did not see): seek to the bar's value.
          if (performance.now() - pointerSeekAt.current > 500) video.currentTime = Number((e.currentTarget as HTMLInputElement).value);
          dragging.current = false;
        }}
        onPointerUp={(e) => {
          if (!dragging.current) return;
          dragging.current = false;
          // Let go: one seek, to the frame the preview showed (not one per pixel of the drag).
          video.currentTime = showAtPointer(e.clientX);
          pointerSeekAt.current = performance.now();
          if (e.pointerType !== "mouse") setPreview(null);
        }}
        onPointerCancel={() => {
          dragging.current = false;
          setPreview(null);
        }}
        onBlur={() => setPreview(null)}
      />
    </div>
  );
}
