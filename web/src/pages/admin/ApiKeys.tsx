/**
 * The admin's server keys: create one (the key is shown once, with a copy button), list them
 * (never with their secret) and revoke them.
 */
import { useAction } from "../../lib/use-action.ts";
import { useEffect, useState } from "preact/hooks";
import { apiKeysApi, type ApiKeyInfo, type CreatedApiKey } from "../../lib/api-keys.ts";
import { intlLocale } from "../../lib/format.ts";
import { useI18n } from "../../lib/i18n.tsx";
import { useSession } from "../../lib/session.tsx";
import type { StringKey } from "../../lib/strings.ts";
import { InputField, Notice, ScrollTable } from "../../components/Fields.tsx";
import { SCOPES, type Scope } from "../../../../contract/scopes.ts";
import { API_KEY_NAME_MAX } from "../../../../contract/api-keys.ts";

const SCOPE_LABELS: Record<Scope, StringKey> = {
  "uploads:create": "apiKeys.scopeUploads",
  "videos:read": "apiKeys.scopeRead",
  "videos:write": "apiKeys.scopeWrite",
  "webhooks:manage": "apiKeys.scopeWebhooks",
};

/** Copies to the clipboard; false where the browser refuses (no permission, insecure page). */
async function copy(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

export function ApiKeysSection() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const token = session!.token;
  const [keys, setKeys] = useState<ApiKeyInfo[] | null>(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const { notice, setNotice, error, setError, busy, run } = useAction();

  const load = () =>
    apiKeysApi.list(token).then(
      (r) => setKeys(r.keys),
      (err) => setError((err as Error).message),
    );
  useEffect(() => void load(), []);

  const create = (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return setError(t("apiKeys.nameRequired"));
    if (scopes.length === 0) return setError(t("apiKeys.scopeRequired"));
    void run(async () => {
      const key = await apiKeysApi.create(token, name.trim(), scopes);
      // Held in this component's state only: leaving the page (or "I have saved it") forgets it.
      setCreated(key);
      setName("");
      setScopes([]);
      await load();
    });
  };

  const revoke = (key: ApiKeyInfo) => {
    if (!confirm(t("apiKeys.revokeConfirm", { name: key.name }))) return;
    void run(async () => {
      await apiKeysApi.revoke(token, key.id);
      if (created?.id === key.id) setCreated(null);
      setNotice(t("apiKeys.revoked", { name: key.name }));
      await load();
    });
  };

  const when = (ms: number) => new Date(ms).toLocaleString(intlLocale(lang), { dateStyle: "short", timeStyle: "short" });

  return (
    <div class="card" data-testid="api-keys">
      <h2>{t("apiKeys.title")}</h2>
      <p class="muted">{t("apiKeys.intro")}</p>
      <form onSubmit={create} noValidate>
        <InputField label={t("apiKeys.name")} name="apiKeyName" value={name} onValue={setName} autoComplete="off" />
        <fieldset class="field">
          <legend>{t("apiKeys.scopes")}</legend>
          {SCOPES.map((scope) => (
            <label key={scope} class="choice">
              <input
                type="checkbox"
                name="scope"
                value={scope}
                checked={scopes.includes(scope)}
                onChange={(e) =>
                  setScopes((e.currentTarget as HTMLInputElement).checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />
              {t(SCOPE_LABELS[scope])} <code dir="ltr">{scope}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy || [...name.trim()].length > API_KEY_NAME_MAX}>
          {t("apiKeys.create")}
        </button>
      </form>

      {created && (
        <div class="new-key" data-testid="new-api-key">
          <p class="notice ok" role="status">
            {t("apiKeys.created", { name: created.name })}
          </p>
          <div class="row">
            <input
              dir="ltr"
              readOnly
              value={created.key}
              aria-label={t("apiKeys.key")}
              data-testid="new-api-key-value"
              onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
            />
            <button
              type="button"
              class="small"
              onClick={() => void copy(created.key).then((ok) => setNotice(t(ok ? "apiKeys.copied" : "apiKeys.copyFailed")))}
            >
              {t("apiKeys.copy")}
            </button>
            <button type="button" class="ghost small" onClick={() => setCreated(null)}>
              {t("apiKeys.done")}
            </button>
          </div>
        </div>
      )}
      <Notice kind="ok">{notice}</Notice>
      <Notice kind="error">{error}</Notice>

      {keys?.length === 0 && <p class="muted">{t("apiKeys.none")}</p>}
      {keys && keys.length > 0 && (
        <ScrollTable label={t("apiKeys.title")}>
          <table class="jobs" data-testid="api-key-list">
            <thead>
              <tr>
                <th scope="col">{t("apiKeys.colName")}</th>
                <th scope="col">{t("apiKeys.colKey")}</th>
                <th scope="col">{t("apiKeys.scopes")}</th>
                <th scope="col">{t("apiKeys.colCreated")}</th>
                <th scope="col">{t("apiKeys.colLastUsed")}</th>
                <th scope="col">{t("admin.colActions")}</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td dir="auto">{k.name}</td>
                  <td dir="ltr">
                    <code>{k.hint}…</code>
                  </td>
                  <td dir="ltr" class="small">
                    {k.scopes.join(", ")}
                  </td>
                  <td class="small">{when(k.createdAt)}</td>
                  <td class="small">{k.lastUsedAt === null ? t("apiKeys.never") : when(k.lastUsedAt)}</td>
                  <td>
                    <button type="button" class="small danger" disabled={busy} onClick={() => revoke(k)}>
                      {t("apiKeys.revoke")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollTable>
      )}
    </div>
  );
}
