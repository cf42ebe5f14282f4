/**
 * The watch and embed pages as the real runtime serves them: the Worker reads the web app's built
 * shell from the static assets (run_worker_first in wrangler.toml) and writes the link preview
 * tags in, ahead of the app's scripts; no browser and no transcoder needed (a READY row in D1).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { d1Query, startTestStack, type TestStack } from "./fixture.ts";

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

function insertVideo(visibility: "public" | "private", title: string): string {
  const id = crypto.randomUUID();
  const now = Date.now();
  const renditions = JSON.stringify([{ name: "720p", width: 1280, height: 720, videoBitrate: 2_500_000, bandwidth: 2_800_000 }]);
  d1Query(
    stack.persistTo,
    `INSERT INTO videos (id, owner_id, title, filename, filetype, status, playable, visibility, attempts, run, renditions, upload_expires_at, created_at, updated_at)
     VALUES ('${id}', 'alice', '${title.replace(/'/g, "''")}', 't.mp4', 'video/mp4', 'READY', 1, '${visibility}', 1, 1, '${renditions}', ${now + 1e9}, ${now}, ${now})`,
  );
  return id;
}

describe("watch and embed pages on the real runtime", () => {
  it("are the web app's own page with the preview tags in <head> before its scripts", async () => {
    const id = insertVideo("public", `Nile "sunset" <script>x</script>`);
    for (const path of [`/watch/${id}`, `/embed/${id}`]) {
      const res = await fetch(`${stack.baseUrl}${path}`);
      expect(res.status).toBe(200);
      const html = await res.text();
      // The built app: its hashed module script is there.
      expect(html).toMatch(/<script type="module"[^>]* src="\/assets\/[^"]+\.js"/);
      expect(html).toContain('<div id="app"></div>');
      const og = html.indexOf('<meta property="og:title" content="Nile &quot;sunset&quot; &lt;script&gt;x&lt;/script&gt;"');
      expect(og).toBeGreaterThan(html.indexOf("<head>"));
      expect(og).toBeLessThan(html.indexOf("<script"));
      expect(html).toContain(`<meta property="og:image" content="${stack.baseUrl}/videos/${id}/poster.jpg"`);
      expect(html).toContain(`href="${stack.baseUrl}/oembed?url=${encodeURIComponent(`${stack.baseUrl}/watch/${id}`)}&amp;format=json"`);
      expect(html).not.toContain("<script>x</script>");
    }
    const oembed = await fetch(`${stack.baseUrl}/oembed?url=${encodeURIComponent(`${stack.baseUrl}/watch/${id}`)}&format=json`);
    expect(oembed.status).toBe(200);
    expect(await oembed.json()).toMatchObject({ type: "video", width: 1280, height: 720 });
  });

  it("gives a private video the app's page without tags", async () => {
    const id = insertVideo("private", "Family only");
    const html = await (await fetch(`${stack.baseUrl}/watch/${id}`)).text();
    expect(html).toMatch(/src="\/assets\/[^"]+\.js"/);
    expect(html).not.toMatch(/og:|twitter:|oembed/);
    expect((await fetch(`${stack.baseUrl}/oembed?url=${encodeURIComponent(`${stack.baseUrl}/watch/${id}`)}`)).status).toBe(404);
  });
});
