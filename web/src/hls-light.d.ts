// hls.js ships its "light" build (no alternate audio, subtitles or DRM: smaller for slow links)
// without its own declarations; it has the same API as the full build.
declare module "hls.js/light" {
  export * from "hls.js";
  export { default } from "hls.js";
}
