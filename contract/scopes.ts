/**
 * What a server API key (`evk_…`) may do. A key holds the scopes it was made with; a user token
 * holds none, and admins may do everything a scope allows.
 */
export const SCOPES = ["uploads:create", "videos:read", "videos:write", "webhooks:manage"] as const;
export type Scope = (typeof SCOPES)[number];

export const isScope = (value: unknown): value is Scope => typeof value === "string" && (SCOPES as readonly string[]).includes(value);
