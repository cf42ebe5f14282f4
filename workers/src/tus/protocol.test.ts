import { describe, expect, it } from "vitest";
import {
  TusError,
  applyMethodOverride,
  assertTusVersion,
  discoveryHeaders,
  httpDate,
  parseChecksum,
  parseCreationLength,
  parseMetadata,
  parseNonNegativeInteger,
  sanitizeText,
  videoMetadata,
} from "./protocol.ts";

const b64 = (s: string) => btoa(String.fromCharCode(...new TextEncoder().encode(s)));
const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof TusError ? `${e.status} ${e.code}` : `not a TusError: ${String(e)}`;
  }
  return "no error";
};

describe("Tus-Resumable", () => {
  it("accepts 1.0.0 and answers 412 for anything else or nothing", () => {
    expect(codeOf(() => assertTusVersion("1.0.0"))).toBe("no error");
    expect(codeOf(() => assertTusVersion("0.2.2"))).toBe("412 UNSUPPORTED_VERSION");
    expect(codeOf(() => assertTusVersion(null))).toBe("412 UNSUPPORTED_VERSION");
  });
});

describe("parseNonNegativeInteger", () => {
  it.each([
    ["0", 0],
    ["123", 123],
    [" 42 ", 42],
    ["-1", null],
    ["1.5", null],
    ["1e3", null],
    ["", null],
    [null, null],
    ["99999999999999999", null],
  ])("%s → %s", (input, expected) => expect(parseNonNegativeInteger(input)).toBe(expected));
});

describe("parseCreationLength", () => {
  const max = 1000;
  it("reads a declared length", () => expect(parseCreationLength("10", null, max)).toEqual({ length: 10 }));
  it("defers with Upload-Defer-Length: 1", () => expect(parseCreationLength(null, "1", max)).toEqual({ length: null }));
  it("refuses the rest with the right status", () => {
    expect(codeOf(() => parseCreationLength(null, null, max))).toBe("400 MISSING_LENGTH");
    expect(codeOf(() => parseCreationLength("abc", null, max))).toBe("400 INVALID_LENGTH");
    expect(codeOf(() => parseCreationLength(null, "2", max))).toBe("400 INVALID_DEFER_LENGTH");
    expect(codeOf(() => parseCreationLength("0", null, max))).toBe("400 EMPTY_UPLOAD");
    expect(codeOf(() => parseCreationLength("1001", null, max))).toBe("413 TOO_LARGE");
  });
});

describe("parseMetadata", () => {
  it("decodes UTF-8 values and empty values", () => {
    const parsed = parseMetadata(`filename ${b64("رحلة.mp4")},filetype ${b64("video/mp4")},flag`);
    expect(Object.fromEntries(parsed)).toEqual({ filename: "رحلة.mp4", filetype: "video/mp4", flag: "" });
  });
  it.each([
    ["duplicate keys", `a ${b64("1")},a ${b64("2")}`],
    ["invalid base64", "filename !!!"],
    ["three parts", "filename YQ== extra"],
    ["non-ASCII key", `fïlename ${b64("x")}`],
    ["invalid UTF-8", `filename ${btoa("\xff\xfe")}`],
  ])("refuses %s with 400", (_, header) => expect(codeOf(() => parseMetadata(header))).toBe("400 INVALID_METADATA"));
});

describe("videoMetadata", () => {
  const meta = (pairs: Record<string, string>) => videoMetadata(new Map(Object.entries(pairs)));
  it("sanitizes names: no control characters, quotes or path parts", () => {
    const m = meta({ filename: '../../etc/"evil"\r\nname.mp4', filetype: "video/mp4" });
    expect(m.filename).toBe("evil name.mp4");
    expect(m.title).toBe("evil name");
  });
  it("takes a given title, sanitized", () => {
    expect(meta({ filename: "a.mov", filetype: "video/quicktime", title: " My\u202e trip " }).title).toBe("My trip");
  });
  it("accepts an unknown (empty) type, refuses non-video types and a missing name", () => {
    expect(meta({ filename: "a.mkv", filetype: "" }).filetype).toBe("application/octet-stream");
    expect(codeOf(() => meta({ filename: "a.png", filetype: "image/png" }))).toBe("400 INVALID_METADATA");
    expect(codeOf(() => meta({ filetype: "video/mp4" }))).toBe("400 INVALID_METADATA");
    expect(codeOf(() => meta({ filename: "\r\n", filetype: "video/mp4" }))).toBe("400 INVALID_METADATA");
  });
});

describe("parseChecksum", () => {
  it("reads sha1 and sha256", () => {
    expect(parseChecksum(`sha1 ${btoa("12345678901234567890")}`)?.algorithm).toBe("sha1");
    expect(parseChecksum(`SHA256 ${btoa("x")}`)?.algorithm).toBe("sha256");
    expect(parseChecksum(null)).toBeNull();
  });
  it("answers 400 for an unknown algorithm or a malformed header", () => {
    expect(codeOf(() => parseChecksum(`md5 ${btoa("x")}`))).toBe("400 UNSUPPORTED_CHECKSUM");
    expect(codeOf(() => parseChecksum("sha1"))).toBe("400 INVALID_CHECKSUM");
    expect(codeOf(() => parseChecksum("sha1 %%%"))).toBe("400 INVALID_CHECKSUM");
  });
});

describe("headers", () => {
  it("formats Upload-Expires as an HTTP-date", () => {
    expect(httpDate(Date.UTC(2026, 10, 24, 8, 49, 37))).toBe("Tue, 24 Nov 2026 08:49:37 GMT");
  });
  it("advertises version, extensions, max size and checksum algorithms", () => {
    const h = discoveryHeaders(524288000);
    expect(h["Tus-Version"]).toBe("1.0.0");
    expect(h["Tus-Extension"].split(",")).toEqual(
      expect.arrayContaining(["creation", "creation-with-upload", "creation-defer-length", "expiration", "checksum", "termination"]),
    );
    expect(h["Tus-Max-Size"]).toBe("524288000");
    expect(h["Tus-Checksum-Algorithm"]).toBe("sha1,sha256");
  });
  it("applies X-HTTP-Method-Override on POST only", () => {
    const req = (method: string) => new Request("https://x/", { method, headers: { "X-HTTP-Method-Override": "DELETE" } });
    expect(applyMethodOverride(req("POST")).method).toBe("DELETE");
    expect(applyMethodOverride(req("GET")).method).toBe("GET");
  });
});

describe("sanitizeText", () => {
  it("removes format characters (Cf): zero-width, bidi marks and overrides, BOM, soft hyphen", () => {
    expect(sanitizeText("\ufeffa\u200bb\u200ec\u202ed\u2066e\u00adf\u2060g", 200)).toBe("abcdefg");
  });

  it("keeps joiners between visible characters (emoji sequences, Persian words) and drops stray ones", () => {
    const family = "👨\u200d👩\u200d👧";
    expect(sanitizeText(family, 200)).toBe(family);
    expect(sanitizeText("می\u200cخواهم", 200)).toBe("می\u200cخواهم");
    expect(sanitizeText("\u200dab\u200c", 200)).toBe("ab");
    expect(sanitizeText("a \u200d b", 200)).toBe("a b");
  });

  it("turns a text of only invisible characters into no text", () => {
    expect(sanitizeText("\u200b\u200c\u200d\u200e\u202e\ufeff", 200)).toBe("");
  });

  it("counts code points and never cuts inside a surrogate pair or an emoji sequence", () => {
    expect(sanitizeText("😀".repeat(5), 3)).toBe("😀😀😀");
    const family = "👨\u200d👩\u200d👧"; // 5 code points, one grapheme
    expect(sanitizeText(`ab${family}`, 4)).toBe("ab");
    expect(sanitizeText(`ab${family}`, 7)).toBe(`ab${family}`);
  });

  it("still strips controls, quotes and angle brackets, and folds white space", () => {
    expect(sanitizeText(' <b>"Cairo"</b>\r\n\tat `night` ', 200)).toBe("bCairo/b at night");
  });
});

describe("videoMetadata titles", () => {
  it("falls back to the file name when the title is only invisible characters", () => {
    const meta = videoMetadata(parseMetadata(`filename ${b64("trip.mp4")},title ${b64("\u200b\u202e\ufeff")}`));
    expect(meta.title).toBe("trip");
  });
});
