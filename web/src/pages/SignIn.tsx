import { useState } from "preact/hooks";
import { api } from "../lib/api.ts";
import { useI18n } from "../lib/i18n.tsx";
import { useSession } from "../lib/session.tsx";
import { InputField, Notice } from "../components/Fields.tsx";

export function SignInPage({ expired }: { expired: boolean }) {
  const { t } = useI18n();
  const { signIn } = useSession();
  const [userId, setUserId] = useState("");
  const [role, setRole] = useState<"creator" | "admin">("creator");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const name = userId.trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) {
      setError(t("signin.userInvalid"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const { token } = await api.devLogin(name, role);
      if (!signIn(token)) setError(t("signin.failed", { reason: "invalid token" }));
    } catch (err) {
      setError(t("signin.failed", { reason: (err as Error).message }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card narrow">
      <h1>{t("signin.title")}</h1>
      {expired && (
        <p class="notice" role="status">
          {t("common.sessionExpired")}
        </p>
      )}
      <p class="muted">{t("signin.intro")}</p>
      <form onSubmit={submit} noValidate>
        <InputField
          label={t("signin.user")}
          name="userId"
          autoComplete="username"
          autoCapitalize="none"
          spellcheck={false}
          required
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "signin-error" : undefined}
          value={userId}
          onValue={setUserId}
        />
        <fieldset class="field">
          <legend>{t("signin.role")}</legend>
          <label class="choice">
            <input type="radio" name="role" value="creator" checked={role === "creator"} onChange={() => setRole("creator")} />{" "}
            {t("signin.creator")}
          </label>
          <label class="choice">
            <input type="radio" name="role" value="admin" checked={role === "admin"} onChange={() => setRole("admin")} />{" "}
            {t("signin.admin")}
          </label>
        </fieldset>
        <Notice kind="error" id="signin-error">
          {error}
        </Notice>
        <button type="submit" class="primary" disabled={busy}>
          {t("signin.submit")}
        </button>
      </form>
    </section>
  );
}
