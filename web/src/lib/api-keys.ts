/** The admin API of server keys (`evk_…`), on top of the shared request helper. */
import { request } from "./api.ts";
import type { ApiKeyInfo, ApiKeyListResponse, CreatedApiKey } from "../../../contract/api-keys.ts";
import type { Scope } from "../../../contract/scopes.ts";

export type { ApiKeyInfo, CreatedApiKey };

export const apiKeysApi = {
  list: (token: string) => request<ApiKeyListResponse>(token, "GET", "/api/admin/api-keys"),
  /** The answer is the only time the key itself is seen. */
  create: (token: string, name: string, scopes: Scope[]) => request<CreatedApiKey>(token, "POST", "/api/admin/api-keys", { name, scopes }),
  revoke: (token: string, id: string) => request<void>(token, "DELETE", `/api/admin/api-keys/${encodeURIComponent(id)}`),
};
