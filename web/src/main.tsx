import { render } from "preact";
import { loadHls, prefersNativeHls } from "./lib/hls-loader.ts";
import "./styles.css";

const root = document.getElementById("app")!;
const embed = /^\/embed\/([^/]+)\/?$/.exec(location.pathname);

if (embed) {
  // The embed loads only its own code: none of the app's pages, nor the player engine until play.
  void import("./embed/Embed.tsx").then(({ mountEmbed }) => mountEmbed(root, decodeURIComponent(embed[1])));
} else {
  // Opening a video: start fetching the player now, alongside the app's first API calls — unless
  // the browser plays HLS itself, which then needs no engine before the first frame.
  if (location.pathname.startsWith("/watch/") && !prefersNativeHls()) void loadHls();
  void import("./App.tsx").then(({ App }) => render(<App />, root));
}
