import { OpenAPIHono, z, type Hook } from "@hono/zod-openapi";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./auth.ts";
import { ApiError } from "./errors.ts";

/**
 * Route definitions that validate and document at once: each route's params, query, body and
 * responses are declared with `createRoute` and served by `openapi(route, handler)`, so
 * /api/openapi.json (routes/openapi.ts) is generated from the schemas that check the requests.
 *
 * A request the schemas refuse answers the one error shape, `400 {error, message}`. The code and
 * sentence come from the route's `InputErrors` (field → [code, sentence]) when it names the field,
 * else `invalid_<field>` and a sentence built from the schema's complaint. How to convert a plain
 * Hono route: ARCHITECTURE.md, "The API document".
 */
export const openApiRoutes = () => new OpenAPIHono<AppEnv>({ defaultHook: rejectInput() });

/**
 * `body`: the error for a body that is not a JSON object (and, unless `json` says otherwise, one that
 * is not JSON); other keys name a field of the params, query or body.
 */
export type InputErrors = Record<string, readonly [code: string, sentence: string]>;
type Check = (input: unknown, c: Context<AppEnv>) => unknown;

/**
 * The validation hook: turns the first issue into an ApiError. `errors` may instead be a check
 * that throws the precise ApiError itself (a semantic validator kept from before the schema).
 */
// biome-ignore lint/suspicious/noExplicitAny: one hook serves every route, whatever its input and responses.
export function rejectInput<I = any>(errors: InputErrors | Check = {}): Hook<I, AppEnv, any, any> {
  return (result, c): undefined => {
    if (result.success) return;
    const input = (result as { data?: unknown }).data;
    if (typeof errors === "function") errors(input, c);
    const issue = result.error.issues[0]!;
    const field = issue.path.length > 0 ? String(issue.path[0]) : null;
    const named = typeof errors === "function" ? undefined : field === null ? errors.body : errors[field];
    if (named) throw new ApiError(400, named[0], named[1]);
    if (field === null) throw new ApiError(400, "invalid_body", "Send a JSON object.");
    throw new ApiError(400, `invalid_${snake(field)}`, `${field} is not valid: ${lower(issue.message)}.`);
  };
}

/**
 * Before the schema: a JSON route refuses another Content-Type (415) and a body that does not
 * parse (400 with the route's `body` error), so the schema sees the body the client sent.
 */
export const jsonBody = (errors: InputErrors = {}) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const type = c.req.header("Content-Type") ?? "";
    if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
      throw new ApiError(415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.");
    }
    const [code, sentence] = errors.json ?? errors.body ?? ["invalid_json", "The body must be JSON."];
    await c.req.json().catch(() => {
      throw new ApiError(400, code, sentence);
    });
    await next();
  });

/** True when A and B are the same type: schemas are checked against the contract's types with it. */
export type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

const snake = (field: string) => field.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
const lower = (message: string) => message.replace(/^[A-Z]/, (ch) => ch.toLowerCase()).replace(/\.$/, "");

/** `{error, message}`: every JSON error of the API, and the 4xx answers of every route. */
export const ErrorSchema = z
  .object({
    error: z.string().openapi({ description: "A machine code, such as `not_found` or `invalid_title`." }),
    message: z.string().openapi({ description: "A sentence for people saying what went wrong and what to do." }),
  })
  .openapi("Error");

const errorContent = { "application/json": { schema: ErrorSchema } };
export const errorResponse = (description: string) => ({ description, content: errorContent });

/** The usual failures, to spread into a route's `responses`. */
export const ERRORS = {
  400: errorResponse("The request is not valid: the message names the field and what is expected."),
  401: errorResponse("No credentials, or invalid or expired ones."),
  403: errorResponse("The caller lacks the role or the API key scope this route needs."),
  404: errorResponse("Not found, or not visible to the caller."),
} as const;

/** The failures of a route with a JSON body: those above, and a body not sent as application/json. */
export const BODY_ERRORS = { ...ERRORS, 415: errorResponse("The body is not sent with Content-Type: application/json.") } as const;

export const jsonContent = <T>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
export const jsonRequest = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });

/**
 * Who may call a route, in `security`; beside it, `x-required-scope` names the scope an API key
 * needs (a route without one refuses keys) and `x-required-role: admin` the role a user needs.
 */
export const SECURITY: Record<"user" | "userOrKey" | "optional" | "none", Record<string, string[]>[]> = {
  user: [{ bearerJwt: [] }],
  userOrKey: [{ bearerJwt: [] }, { apiKey: [] }],
  optional: [{}, { bearerJwt: [] }, { apiKey: [] }],
  none: [],
};
