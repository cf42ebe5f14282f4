import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useMemo, useState } from "preact/hooks";
import { translate, type StringKey } from "./strings.ts";
import type { Locale } from "./format.ts";

const STORAGE_KEY = "ev.lang";

export interface I18n {
  lang: Locale;
  t: (key: StringKey, params?: Record<string, string | number>) => string;
  setLang: (lang: Locale) => void;
}

const Ctx = createContext<I18n>({ lang: "en", t: (k, p) => translate("en", k, p), setLang: () => {} });

function initialLang(): Locale {
  // In an embed on another site the storage may be blocked: then the browser's language decides.
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {}
  if (stored === "ar" || stored === "en") return stored;
  return navigator.language?.toLowerCase().startsWith("ar") ? "ar" : "en";
}

/** Applies the language to <html lang dir> so the whole layout flips for Arabic. */
function applyToDocument(lang: Locale): void {
  document.documentElement.lang = lang;
  document.documentElement.dir = lang === "ar" ? "rtl" : "ltr";
}

export function I18nProvider({ children }: { children: ComponentChildren }) {
  const [lang, setLangState] = useState<Locale>(initialLang);
  useEffect(() => applyToDocument(lang), [lang]);
  const value = useMemo<I18n>(
    () => ({
      lang,
      t: (key, params) => translate(lang, key, params),
      setLang: (next) => {
        localStorage.setItem(STORAGE_KEY, next);
        applyToDocument(next);
        setLangState(next);
      },
    }),
    [lang],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export const useI18n = () => useContext(Ctx);
