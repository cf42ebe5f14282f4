/**
 * Who may import whom (ARCHITECTURE.md), checked on the sources as text:
 *   contract/   imports nothing outside contract/ (its test suites may import vitest);
 *   transcoder/ never imports workers/ — it shares only contract/ with the Worker;
 *   web/        never imports workers/ (so never the database schema);
 *   workers/src: only db/ queries (prepared SQL or drizzle).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../dev/stack.ts";

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => /\.(ts|tsx)$/.test(f) && !f.includes("node_modules"))
    .map((f) => join(dir, f));
}

/** Every relative import of a file, resolved to a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g)].map((m) => m[1]);
  return specs.map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)));
}

function violations(dir: string, forbidden: (target: string) => boolean): string[] {
  return sources(dir).flatMap((file) =>
    importsOf(file)
      .filter(forbidden)
      .map((target) => `${file} → ${target}`),
  );
}

describe("import rules", () => {
  it("contract/ depends on nothing but itself", () => {
    expect(violations("contract", (t) => !t.startsWith("contract/"))).toEqual([]);
  });

  it("the transcoder never imports workers/", () => {
    expect(violations("transcoder", (t) => t.startsWith("workers/"))).toEqual([]);
  });

  it("the web app never imports workers/ (nor, so, the database schema)", () => {
    expect(violations("web/src", (t) => t.startsWith("workers/"))).toEqual([]);
  });
});

describe("queries", () => {
  it("only workers/src/db/ prepares SQL or builds drizzle queries", () => {
    const querying = sources("workers/src").filter(
      (file) => !file.startsWith("workers/src/db/") && /\.prepare\(|\bdrizzle\(/.test(readFileSync(join(ROOT, file), "utf8")),
    );
    expect(querying).toEqual([]);
  });
});
