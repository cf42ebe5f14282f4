import { useState } from "preact/hooks";
import { useI18n } from "./i18n.tsx";

/**
 * One user action at a time, with its outcome for the page: `busy` while it runs (buttons
 * disable), the last `notice` (a success sentence) or `error` (the API's sentence, in the
 * page's words). `run` clears both before it starts.
 */
export function useAction() {
  const { t } = useI18n();
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      await work();
    } catch (err) {
      setError(t("common.error", { reason: (err as Error).message }));
    } finally {
      setBusy(false);
    }
  };
  return { notice, setNotice, error, setError, busy, run };
}
