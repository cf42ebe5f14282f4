import { render } from "preact";
import { App } from "./App.tsx";
import { loadHls } from "./components/Player.tsx";
import "./styles.css";

// Opening a video: start fetching the player now, alongside the app's first API calls (native HLS
// on Safari makes it unused there, which costs one cached download).
if (location.pathname.startsWith("/watch/")) void loadHls();

render(<App />, document.getElementById("app")!);
