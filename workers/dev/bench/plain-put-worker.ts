/**
 * Baselines for the benchmark, run by a second `wrangler dev`:
 *  - PUT /<key>: the plainest possible upload, a request body streamed into one R2 put (no
 *    resumability, no auth) — what tus is compared against;
 *  - GET /bytes/<n>: n bytes from memory — the local runtime's own ceiling for serving a response.
 */
export default {
  async fetch(request: Request, env: { MEDIA: R2Bucket }): Promise<Response> {
    const path = new URL(request.url).pathname;
    const size = /^\/bytes\/(\d{1,9})$/.exec(path)?.[1];
    if (request.method === "GET" && size) return new Response(new Uint8Array(Number(size)));
    if (request.method !== "PUT" || !request.body) return new Response("PUT a body, or GET /bytes/<n>", { status: 400 });
    const object = await env.MEDIA.put(path.slice(1) || "object", request.body);
    return Response.json({ key: path.slice(1), size: object?.size ?? 0 });
  },
};
