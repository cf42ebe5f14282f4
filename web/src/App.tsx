import { useEffect, useMemo, useState } from "preact/hooks";
import { setUnauthorizedHandler } from "./lib/api.ts";
import { clearSession, loadSession, saveSession, type Session } from "./lib/auth.ts";
import { I18nProvider, useI18n } from "./lib/i18n.tsx";
import { Link, navigate, usePath } from "./lib/router.tsx";
import { directUploadParam, matchRoute, needsSignIn, type Route as PageRoute } from "./lib/viewer.ts";
import { SessionContext, useSession, type SessionCtx } from "./lib/session.tsx";
import { SignInPage } from "./pages/SignIn.tsx";
import { WatchPage } from "./pages/Watch.tsx";
import { lazyPage } from "./lib/lazy-page.tsx";

// Pages a signed-out viewer never opens come with their own code, when first shown.
const UploadPage = lazyPage(() => import("./pages/Upload.tsx").then((m) => m.UploadPage));
const VideosPage = lazyPage(() => import("./pages/Videos.tsx").then((m) => m.VideosPage));
const AdminPage = lazyPage(() => import("./pages/Admin.tsx").then((m) => m.AdminPage));

export function App() {
  const [session, setSession] = useState<Session | null>(loadSession);
  const [expired, setExpired] = useState(false);
  const ctx = useMemo<SessionCtx>(
    () => ({
      session,
      signIn: (token) => {
        const s = saveSession(token);
        setSession(s);
        setExpired(false);
        return s !== null;
      },
      signOut: (wasExpired = false) => {
        clearSession();
        setSession(null);
        setExpired(wasExpired);
        navigate("/", { replace: true });
      },
    }),
    [session],
  );
  useEffect(() => setUnauthorizedHandler(() => ctx.signOut(true)), [ctx]);
  return (
    <I18nProvider>
      <SessionContext.Provider value={ctx}>
        <Shell expired={expired} />
      </SessionContext.Provider>
    </I18nProvider>
  );
}

function Shell({ expired }: { expired: boolean }) {
  const { t, lang, setLang } = useI18n();
  const { session, signOut } = useSession();
  const route = matchRoute(usePath());
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    return () => {
      window.removeEventListener("online", update);
      window.removeEventListener("offline", update);
    };
  }, []);
  useEffect(() => {
    document.title = t("app.name");
  }, [lang]);

  return (
    <>
      <a class="skip" href="#main">
        {t("app.skip")}
      </a>
      <header class="topbar">
        <Link href="/" class="brand">
          {t("app.name")}
        </Link>
        <nav aria-label={t("app.name")}>
          {session && (
            <>
              <Link href="/">{t("nav.upload")}</Link>
              <Link href="/videos">{t("nav.videos")}</Link>
              {session.role === "admin" && <Link href="/admin">{t("nav.admin")}</Link>}
            </>
          )}
        </nav>
        <div class="topbar-end">
          <button
            type="button"
            class="ghost"
            lang={lang === "ar" ? "en" : "ar"}
            aria-label={t("nav.languageLabel")}
            data-testid="lang"
            onClick={() => setLang(lang === "ar" ? "en" : "ar")}
          >
            {t("nav.language")}
          </button>
          {!session && !needsSignIn(route) && (
            <Link href="/" class="button ghost">
              {t("nav.signIn")}
            </Link>
          )}
          {session && (
            <button type="button" class="ghost" title={t("nav.signedInAs", { user: session.userId })} onClick={() => signOut()}>
              {t("nav.signOut")}
            </button>
          )}
        </div>
      </header>
      {!online && (
        <p class="banner" role="status">
          {t("common.offline")}
        </p>
      )}
      <main id="main" tabIndex={-1}>
        {/* Watching needs no account: sign-in is asked only for uploading, "My videos" and admin. */}
        {/* An upload link opened by another app (`/upload?u=…`) is its own credential: no sign-in either. */}
        {!session && needsSignIn(route) && !(route.page === "upload" && directUploadParam(location.search, location.origin)) ? (
          <SignInPage expired={expired} />
        ) : (
          <Route route={route} session={session} />
        )}
      </main>
    </>
  );
}

function Route({ route, session }: { route: PageRoute; session: Session | null }) {
  const { t } = useI18n();
  if (route.page === "watch" || route.page === "embed") return <WatchPage id={route.id} key={route.id} />;
  if (route.page === "upload") return <UploadPage />;
  if (route.page === "videos") return <VideosPage />;
  if (route.page === "admin") return session?.role === "admin" ? <AdminPage /> : <p class="notice error">{t("admin.forbidden")}</p>;
  return (
    <section>
      <h1>{t("common.notFound")}</h1>
      <Link href="/">{t("common.home")}</Link>
    </section>
  );
}
