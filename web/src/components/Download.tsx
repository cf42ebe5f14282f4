/**
 * The MP4 download: the link a viewer sees when the card has a downloadUrl (the owner always gets
 * one), and the owner's "Allow downloads" switch (PATCH {downloadable}).
 */
import { useState } from "preact/hooks";
import { api, type VideoCard, type VideoResponse } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.tsx";
import { useSession } from "../lib/session.tsx";
import { Notice } from "./Fields.tsx";

/** `download` asks the browser to save it; the server's Content-Disposition names the file. */
export function DownloadLink({ video }: { video: Pick<VideoCard, "downloadUrl"> }) {
  const { t } = useI18n();
  if (!video.downloadUrl) return null;
  return (
    <a class="button download-link" href={video.downloadUrl} download data-testid="download-link">
      {t("download.link")}
    </a>
  );
}

export function DownloadToggle({
  video,
  onChange,
}: {
  video: Pick<VideoCard, "id" | "downloadable">;
  onChange?: (updated: VideoResponse) => void;
}) {
  const { t } = useI18n();
  const { session } = useSession();
  const [on, setOn] = useState(video.downloadable);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const toggle = async (downloadable: boolean) => {
    // Shown at once (the box the person just ticked); put back if the change is refused.
    setOn(downloadable);
    setBusy(true);
    setError(null);
    try {
      const updated = await api.updateVideo(session!.token, video.id, { downloadable });
      setOn(updated.downloadable);
      onChange?.(updated);
    } catch (err) {
      setOn(!downloadable);
      setError(t("common.error", { reason: (err as Error).message }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="download-toggle">
      <label class="inline-field" title={t("download.allowHint")}>
        <input
          type="checkbox"
          checked={on}
          disabled={busy}
          data-testid="allow-downloads"
          onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)}
        />
        <span>{t("download.allow")}</span>
      </label>
      <Notice kind="error">{error}</Notice>
    </div>
  );
}
