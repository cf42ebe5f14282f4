import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";

/**
 * A page whose code is fetched the first time it is shown: a signed-out viewer's watch page then
 * downloads none of the upload, "My videos" or admin code (tus-js-client alone is most of it) on
 * the slow link its first frame shares.
 */
export function lazyPage<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  return function LazyPage(props: P) {
    const [, setReady] = useState(loaded !== null);
    useEffect(() => {
      if (loaded) return;
      let live = true;
      pending ??= load().then((page) => {
        loaded = page;
      });
      pending.then(
        () => live && setReady(true),
        () => {
          // A failed chunk download is tried again the next time the page is shown.
          pending = null;
        },
      );
      return () => {
        live = false;
      };
    }, []);
    const Page = loaded;
    return Page ? <Page {...props} /> : null;
  };
}
