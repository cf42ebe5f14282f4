/** The viewer side's pure rules: routes, where sign-in is asked, and the share token's way to the API. */
import { describe, expect, it } from "vitest";
import { SHARE_EXPIRIES, directUploadParam, matchRoute, needsSignIn, shareParam, watchUrl, withShare } from "./viewer.ts";
import { en } from "./strings.ts";

describe("web routes", () => {
  it("matches watch and embed pages with their id, and the signed-in pages", () => {
    expect(matchRoute("/watch/abc_123")).toEqual({ page: "watch", id: "abc_123" });
    expect(matchRoute("/watch/a%20b/")).toEqual({ page: "watch", id: "a b" });
    expect(matchRoute("/embed/abc")).toEqual({ page: "embed", id: "abc" });
    expect(matchRoute("/embed/abc/more")).toEqual({ page: "notFound" });
    expect(matchRoute("/")).toEqual({ page: "upload" });
    expect(matchRoute("/upload")).toEqual({ page: "upload" });
    expect(matchRoute("/videos")).toEqual({ page: "videos" });
    expect(matchRoute("/admin")).toEqual({ page: "admin" });
    expect(matchRoute("/nope")).toEqual({ page: "notFound" });
  });

  it("asks for a sign-in only for uploading, my videos and admin", () => {
    expect(needsSignIn(matchRoute("/watch/abc"))).toBe(false);
    expect(needsSignIn(matchRoute("/embed/abc"))).toBe(false);
    for (const path of ["/", "/upload", "/videos", "/admin", "/nope"]) expect(needsSignIn(matchRoute(path)), path).toBe(true);
  });
});

describe("web share links", () => {
  it("reads the share token of the page URL and passes it on", () => {
    expect(shareParam("?share=t0k.en")).toBe("t0k.en");
    expect(shareParam("?x=1&share=a%2Bb")).toBe("a+b");
    expect(shareParam("")).toBeNull();
    expect(shareParam("?share=")).toBeNull();
    expect(withShare("/api/videos/v1", "a+b")).toBe("/api/videos/v1?share=a%2Bb");
    expect(withShare("/api/videos?limit=1", "t")).toBe("/api/videos?limit=1&share=t");
    expect(withShare("/api/videos/v1/playback", null)).toBe("/api/videos/v1/playback");
    expect(watchUrl("v1")).toBe("/watch/v1");
    expect(watchUrl("v1", "t", "https://example.com")).toBe("https://example.com/watch/v1?share=t");
  });

  it("offers 1, 7 and 30 days, each with a sentence", () => {
    expect(SHARE_EXPIRIES.map((e) => e.seconds)).toEqual([86_400, 604_800, 2_592_000]);
    for (const e of SHARE_EXPIRIES) expect(en[e.label]).toBeTruthy();
  });
});

describe("the upload link of /upload?u=", () => {
  const origin = "https://video.example";
  const link = `${origin}/api/video/uploads?direct=abc.1.sig`;
  it("is taken when it is this site's tus endpoint with a link token", () => {
    expect(directUploadParam(`?u=${encodeURIComponent(link)}`, origin)).toBe(link);
    expect(directUploadParam(`?u=${encodeURIComponent("/api/video/uploads?direct=x")}`, origin)).toBe(
      `${origin}/api/video/uploads?direct=x`,
    );
  });
  it("is refused elsewhere: another site, another path, no token, nothing", () => {
    for (const u of [
      "https://evil.example/api/video/uploads?direct=abc",
      `${origin}/api/videos?direct=abc`,
      `${origin}/api/video/uploads`,
      "javascript:alert(1)",
    ]) {
      expect(directUploadParam(`?u=${encodeURIComponent(u)}`, origin), u).toBeNull();
    }
    expect(directUploadParam("", origin)).toBeNull();
  });
});
