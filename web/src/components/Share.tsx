/**
 * The owner's share controls: a public video's watch URL is copied as it is; a private video gets
 * an expiring share link from the API (1, 7 or 30 days); "Revoke links" stops every one of them.
 */
import { useAction } from "../lib/use-action.ts";
import { useState } from "preact/hooks";
import { api, type VideoCard } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.tsx";
import { useSession } from "../lib/session.tsx";
import { SHARE_EXPIRIES, watchUrl } from "../lib/viewer.ts";
import { Notice } from "./Fields.tsx";

/** Copies to the clipboard; false where the browser refuses (no permission, insecure page). */
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function ShareControls({ video }: { video: Pick<VideoCard, "id" | "title" | "visibility"> }) {
  const { t } = useI18n();
  const { session } = useSession();
  const [expiresInSec, setExpiresInSec] = useState(SHARE_EXPIRIES[1].seconds);
  const [url, setUrl] = useState<string | null>(null);
  const { notice, setNotice, error, busy, run } = useAction();
  const isPrivate = video.visibility === "private";

  const shareLink = () =>
    run(async () => {
      const link = isPrivate ? (await api.share(session!.token, video.id, expiresInSec)).url : watchUrl(video.id, null, location.origin);
      setUrl(link);
      const copied = await copy(link);
      setNotice(copied ? t(isPrivate ? "share.copied" : "share.copiedPublic") : t("share.copyFailed"));
    });
  const revoke = () => {
    if (!confirm(t("share.revokeConfirm", { title: video.title }))) return;
    void run(async () => {
      await api.revokeLinks(session!.token, video.id);
      setUrl(null);
      setNotice(t("share.revoked"));
    });
  };

  return (
    <div class="share" data-testid="share">
      <div class="actions">
        {isPrivate && (
          <label class="inline-field">
            <span>{t("share.expires")}</span>
            <select value={String(expiresInSec)} onChange={(e) => setExpiresInSec(Number((e.currentTarget as HTMLSelectElement).value))}>
              {SHARE_EXPIRIES.map((choice) => (
                <option key={choice.seconds} value={String(choice.seconds)}>
                  {t(choice.label)}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" class="small" disabled={busy} onClick={() => void shareLink()}>
          {t("share.button")}
        </button>
        {isPrivate && (
          <button type="button" class="ghost small" disabled={busy} onClick={revoke}>
            {t("share.revoke")}
          </button>
        )}
      </div>
      {url && (
        <label class="field">
          <span>{t("share.link")}</span>
          <input dir="ltr" readOnly value={url} data-testid="share-url" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        </label>
      )}
      <Notice kind="ok">{notice}</Notice>
      <Notice kind="error">{error}</Notice>
    </div>
  );
}
