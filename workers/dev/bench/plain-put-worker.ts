/**
 * Baseline for the benchmark: the plainest possible upload, a Worker streaming the request body
 * straight into one R2 put. No resumability, no auth: what tus is compared against.
 */
export default {
  async fetch(request: Request, env: { MEDIA: R2Bucket }): Promise<Response> {
    if (request.method !== "PUT" || !request.body) return new Response("PUT a body", { status: 400 });
    const key = new URL(request.url).pathname.slice(1) || "object";
    const object = await env.MEDIA.put(key, request.body);
    return Response.json({ key, size: object?.size ?? 0 });
  },
};
