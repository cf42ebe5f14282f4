/**
 * A loopback HTTP proxy that compresses text responses the way Cloudflare's edge does in production
 * (wrangler dev serves static assets uncompressed): gzip for JavaScript, CSS, HTML, JSON and
 * playlists when the client accepts it; media and images pass through untouched. Used by the
 * first-frame benchmark for both the product and the baseline, so neither pays for local serving.
 */
import { listenOnLoopback } from "../loopback.ts";
import { createServer, request, type Server } from "node:http";
import { createGzip } from "node:zlib";

const COMPRESSIBLE = /javascript|css|html|json|mpegurl|text\//i;

export async function openEdgeGzip(target: { host: string; port: number }): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const upstream = request(
      { host: target.host, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        const type = String(answer.headers["content-type"] ?? "");
        const gzip =
          answer.statusCode === 200 &&
          COMPRESSIBLE.test(type) &&
          !answer.headers["content-encoding"] &&
          /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
        if (!gzip) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const headers = { ...answer.headers, "content-encoding": "gzip", vary: "accept-encoding" };
        delete headers["content-length"];
        res.writeHead(200, headers);
        answer.pipe(createGzip()).pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  return listenOnLoopback(server);
}
