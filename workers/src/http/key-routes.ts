import type { Scope } from "../../../contract/scopes.ts";
import { ApiError } from "./errors.ts";

/**
 * What a server API key may call. A key acts for the app, across creators: a route not listed
 * here is refused to every key (403), so a route added later is for people until it is opened on
 * purpose. Admin routes stay admin-only (a key never has the admin role), except those a scope
 * opens.
 *
 * - `scope`: the key needs it (403 naming the scope it lacks); with it, the video routes treat the
 *   key as the app itself: the full response of every video, and changes to any video.
 * - `"route"`: the route checks its scope itself with `requireScope`.
 */
const KEY_ROUTES: { methods: readonly string[]; path: RegExp; scope: Scope | "route" }[] = [
  { methods: ["GET", "HEAD"], path: /^\/api\/videos\/?$/, scope: "videos:read" },
  { methods: ["GET", "HEAD"], path: /^\/api\/videos\/[^/]+(\/playback)?$/, scope: "videos:read" },
  { methods: ["PATCH", "DELETE"], path: /^\/api\/videos\/[^/]+$/, scope: "videos:write" },
  { methods: ["POST"], path: /^\/api\/videos\/[^/]+\/cancel$/, scope: "videos:write" },
  { methods: ["POST"], path: /^\/api\/direct-uploads\/?$/, scope: "route" },
  { methods: ["GET", "POST", "DELETE"], path: /^\/api\/admin\/webhooks(\/.*)?$/, scope: "route" },
  { methods: ["GET", "HEAD"], path: /^\/api\/openapi\.json$/, scope: "route" },
];

/** Throws the 403 a key gets on `method path` unless its scopes open it. */
export function checkKeyRoute(method: string, path: string, scopes: readonly Scope[]): void {
  const route = KEY_ROUTES.find((r) => r.methods.includes(method) && r.path.test(path));
  if (!route) {
    throw new ApiError(403, "forbidden", `An API key cannot call ${method} ${path}; it is for signed-in people.`);
  }
  if (route.scope !== "route" && !scopes.includes(route.scope)) {
    throw new ApiError(403, "forbidden", `This API key lacks the ${route.scope} scope.`);
  }
}
