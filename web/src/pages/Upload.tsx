import { useEffect, useRef, useState } from "preact/hooks";
import type * as tus from "tus-js-client";
import { formatBytes, formatPercent, formatSpeed, formatTimeLeft, intlLocale } from "../lib/format.ts";
import { useI18n } from "../lib/i18n.tsx";
import { Link } from "../lib/router.tsx";
import { useSession } from "../lib/session.tsx";
import { discardUnfinished, unfinishedUploads, uploader, type UploadState } from "../lib/uploader.ts";
import { checkFile } from "../lib/validate.ts";
import { isFullCard } from "../lib/api.ts";
import { StatusPanel } from "../components/Status.tsx";
import { useWatchedVideo } from "../lib/video-playback.ts";
import { Player } from "../components/Player.tsx";
import { Notice } from "../components/Fields.tsx";
import { directUploadParam } from "../lib/viewer.ts";

function useUploadState(): UploadState {
  const [state, setState] = useState(uploader.state);
  useEffect(() => uploader.subscribe(setState), []);
  return state;
}

export function UploadPage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const state = useUploadState();
  const [title, setTitle] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [unfinished, setUnfinished] = useState<tus.PreviousUpload[]>([]);
  const inputRef = useRef<HTMLInputElement>(null);
  // Opened by another app with an upload link (`?u=`): the link stands in for a session (and wins
  // over one, so the video goes to the creator the link was made for).
  const directUrl = directUploadParam(location.search, location.origin);
  const direct = directUrl !== null;
  // Uploads through a link are remembered (for resuming) under the link itself.
  const userId = direct ? `link:${new URL(directUrl).searchParams.get("direct")?.split(".")[0]}` : session!.userId;

  const refreshUnfinished = () => void unfinishedUploads(userId).then(setUnfinished, () => setUnfinished([]));
  useEffect(refreshUnfinished, [state.phase]);

  const pick = (file: File | undefined) => {
    if (!file) return;
    const issue = checkFile(file);
    if (issue) {
      setProblem(
        issue.code === "not_video"
          ? t("upload.notVideo", { name: file.name })
          : issue.code === "empty"
            ? t("upload.empty", { name: file.name })
            : t("upload.tooBig", { name: file.name, size: formatBytes(file.size, lang) }),
      );
      if (inputRef.current) inputRef.current.value = "";
      return;
    }
    setProblem(null);
    void uploader.choose(file, direct ? { token: null, userId, title, directUrl } : { token: session!.token, userId, title });
  };

  const date = (iso: string) => new Date(iso).toLocaleString(intlLocale(lang), { dateStyle: "medium", timeStyle: "short" });
  const showForm = state.phase === "idle" || state.phase === "cancelled";

  return (
    <section class="page upload-page" data-phase={state.phase} data-video-id={state.videoId ?? ""}>
      <h1>{t("upload.title")}</h1>
      {direct && showForm && <p class="muted">{t("upload.directHint")}</p>}
      {showForm && (
        <>
          {state.phase === "cancelled" && (
            <p class="notice" role="status">
              {t("upload.cancelled")}
            </p>
          )}
          <label class="field">
            <span>{t("upload.videoTitle")}</span>
            <input
              name="title"
              maxLength={200}
              value={title}
              onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
              dir="auto"
            />
          </label>
          {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target only; the file input inside it is the keyboard path. */}
          <div
            class={`dropzone${dragging ? " dragging" : ""}`}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(e) => {
              e.preventDefault();
              setDragging(false);
              pick(e.dataTransfer?.files?.[0]);
            }}
          >
            <input
              ref={inputRef}
              id="file"
              class="visually-hidden"
              type="file"
              accept="video/*"
              aria-describedby="file-limits"
              onChange={(e) => pick((e.currentTarget as HTMLInputElement).files?.[0])}
            />
            <label for="file" class="button primary big">
              {t("upload.pick")}
            </label>
            <span class="muted">{t("upload.drop")}</span>
            <p id="file-limits" class="muted small">
              {t("upload.limits")}
            </p>
          </div>
          <Notice kind="error">{problem}</Notice>
          {unfinished.length > 0 && (
            <div class="card" data-testid="unfinished">
              <h2>{t("upload.unfinished")}</h2>
              <p class="muted">{t("upload.unfinishedHint")}</p>
              <ul class="plain">
                {unfinished.map((u) => (
                  <li key={u.urlStorageKey} class="row">
                    <span dir="auto">{u.metadata.filename}</span>
                    <span class="muted small">
                      {u.size ? formatBytes(u.size, lang) : ""} · {date(u.creationTime)}
                    </span>
                    <button
                      type="button"
                      class="ghost small"
                      onClick={() => void discardUnfinished(session?.token ?? null, u).then(refreshUnfinished)}
                    >
                      {t("upload.discard")}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}

      {state.phase === "confirm-resume" && state.previous && (
        <div class="card" role="alertdialog" aria-labelledby="resume-q">
          <p id="resume-q">
            {state.previous.sentBytes !== null && state.bytesTotal > 0
              ? t("upload.resumeFound", {
                  name: state.fileName,
                  percent: formatPercent((state.previous.sentBytes / state.bytesTotal) * 100, lang),
                  date: date(state.previous.createdAt),
                })
              : t("upload.resumeFoundNoPercent", { name: state.fileName, date: date(state.previous.createdAt) })}
          </p>
          <div class="actions">
            {/* biome-ignore lint/a11y/noAutofocus: the one action the page offers after a reload; Enter resumes the upload. */}
            <button type="button" class="primary" onClick={() => uploader.continuePrevious()} autoFocus>
              {t("upload.resume")}
            </button>
            <button type="button" onClick={() => void uploader.startOver()}>
              {t("upload.startOver")}
            </button>
          </div>
        </div>
      )}

      {["uploading", "paused", "offline", "error"].includes(state.phase) && <UploadProgress state={state} />}

      {state.phase === "done" && state.videoId && (direct ? <DirectDone /> : <Processing id={state.videoId} />)}
    </section>
  );
}

function UploadProgress({ state }: { state: UploadState }) {
  const { t, lang } = useI18n();
  const pct = state.bytesTotal > 0 ? (state.bytesSent / state.bytesTotal) * 100 : 0;
  const left = formatTimeLeft(state.secondsLeft, lang);
  return (
    <div class="card" data-testid="upload-progress">
      <h2 dir="auto">{t("upload.sending", { name: state.fileName })}</h2>
      <progress
        id="upload-bar"
        max={100}
        value={Math.floor(pct)}
        aria-label={t("upload.sending", { name: state.fileName })}
        data-sent={state.bytesSent}
      />
      <p class="stats" aria-live="off">
        <strong>{formatPercent(pct, lang)}</strong>
        <span>{t("upload.progress", { sent: formatBytes(state.bytesSent, lang), total: formatBytes(state.bytesTotal, lang) })}</span>
        {state.phase === "uploading" && state.speed !== null && <span>{t("upload.speed", { speed: formatSpeed(state.speed, lang) })}</span>}
        {state.phase === "uploading" && left && <span>{t("upload.timeLeft", { time: left })}</span>}
      </p>
      <div role="status" aria-live="polite">
        {state.phase === "paused" && <p class="notice">{t("upload.paused")}</p>}
        {state.phase === "offline" && <p class="notice">{t("upload.offline")}</p>}
        {state.phase === "uploading" && state.retrying && <p class="notice">{t("upload.retrying")}</p>}
        {state.phase === "error" && <p class="notice error">{t("upload.failed", { reason: state.error?.message ?? "" })}</p>}
      </div>
      <div class="actions">
        {state.phase === "uploading" && (
          <button type="button" onClick={() => uploader.pause()}>
            {t("upload.pause")}
          </button>
        )}
        {(state.phase === "paused" || state.phase === "offline" || state.phase === "error") && (
          <button type="button" class="primary" onClick={() => uploader.resume()}>
            {state.phase === "error" ? t("upload.tryAgain") : t("upload.continue")}
          </button>
        )}
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (confirm(t("upload.cancelConfirm"))) void uploader.cancel();
          }}
        >
          {t("upload.cancel")}
        </button>
      </div>
    </div>
  );
}

/** After an upload through a link: no account here to follow the video with; the app that opened the page does. */
function DirectDone() {
  const { t } = useI18n();
  return (
    <div class="processing" data-testid="direct-done">
      <p class="notice ok" role="status">
        {t("upload.done")}
      </p>
      <p>{t("upload.directDone")}</p>
    </div>
  );
}

/** After the upload: the video's state in words, polled; the player as soon as it can play. */
export function Processing({ id }: { id: string }) {
  const { t } = useI18n();
  const { video, playUrl, error } = useWatchedVideo(id, 2000);

  return (
    <div class="processing" data-testid="processing">
      <p class="notice ok" role="status">
        {t("upload.done")}
      </p>
      {video && isFullCard(video) ? <StatusPanel video={video} /> : <p class="muted">{t("status.checking")}</p>}
      {error && <p class="notice error">{error}</p>}
      {playUrl && video && <Player url={playUrl} poster={new URL("poster.jpg", playUrl).toString()} title={video.title} />}
      <div class="actions">
        <Link href={`/watch/${encodeURIComponent(id)}`} class="button">
          {t("watch.share")}
        </Link>
        <button type="button" onClick={() => uploader.reset()}>
          {t("upload.another")}
        </button>
      </div>
    </div>
  );
}
