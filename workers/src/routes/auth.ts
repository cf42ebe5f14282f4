import { createRoute, z } from "@hono/zod-openapi";
import { signUserToken, ROLES, type Role } from "../http/auth.ts";
import { notFound } from "../http/errors.ts";
import { devAuthEnabled } from "../config.ts";
import {
  BODY_ERRORS,
  ERRORS,
  SECURITY,
  jsonBody,
  jsonContent,
  jsonRequest,
  openApiRoutes,
  rejectInput,
  type InputErrors,
} from "../http/openapi.ts";

export const auth = openApiRoutes();

const LOGIN_ERRORS: InputErrors = {
  body: ["invalid_user", "userId must be 1–64 letters, digits or . _ @ -."],
  userId: ["invalid_user", "userId must be 1–64 letters, digits or . _ @ -."],
  role: ["invalid_role", "role must be 'creator' or 'admin'."],
};

const devLoginRoute = createRoute({
  method: "post",
  path: "/dev-login",
  summary: "Local development sign-in",
  description: 'Exists only when the variable DEV_AUTH is "true" (local development); otherwise 404 like any unknown route.',
  security: SECURITY.none,
  // Off: a 404 before the body is read, as for any unknown route.
  middleware: [
    async (c, next) => {
      if (!devAuthEnabled(c.env)) throw notFound("Route");
      await next();
    },
    jsonBody(LOGIN_ERRORS),
  ] as const,
  request: {
    body: jsonRequest(
      z.object({
        userId: z
          .string()
          .regex(/^\s*[A-Za-z0-9_.@-]{1,64}\s*$/)
          .openapi({ example: "alice" }),
        role: z.enum(ROLES as [Role, ...Role[]]).default("creator"),
      }),
    ),
  },
  responses: {
    200: jsonContent(z.object({ token: z.string().openapi({ description: "An HS256 JWT, valid 12 hours." }) }), "Signed in."),
    400: ERRORS[400],
    404: ERRORS[404],
    415: BODY_ERRORS[415],
  },
});

/** Local development sign-in: exists only when DEV_AUTH is "true", otherwise it is a 404 like any unknown route. */
auth.openapi(
  devLoginRoute,
  async (c) => {
    const { userId, role } = c.req.valid("json");
    return c.json({ token: await signUserToken(c.env.JWT_SECRET, { id: userId.trim(), role }) }, 200);
  },
  rejectInput(LOGIN_ERRORS),
);
