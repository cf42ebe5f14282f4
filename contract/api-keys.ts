import type { Scope } from "./scopes.ts";

/** Server API keys (`evk_…`): what the admin API and the admin page exchange. */

/** Every key starts with this, so a bearer token says at a glance whether it is a key or a JWT. */
export const API_KEY_PREFIX = "evk_";
export const API_KEY_NAME_MAX = 100;

/** `POST /api/admin/api-keys` */
export interface CreateApiKeyRequest {
  name: string;
  scopes: Scope[];
}

/** `201` of `POST /api/admin/api-keys`: the only answer that ever carries the key itself. */
export interface CreatedApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  key: string;
}

/** A key as `GET /api/admin/api-keys` lists it: no secret, only its first characters (`hint`). */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  /** "evk_" and the key's next 4 characters, to tell keys apart. */
  hint: string;
  createdBy: string;
  createdAt: number;
  /** Epoch ms of the last request made with the key (to the minute), null if never used. */
  lastUsedAt: number | null;
}

export interface ApiKeyListResponse {
  keys: ApiKeyInfo[];
}
