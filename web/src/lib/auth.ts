/** The session: a JWT from the dev login, kept in sessionStorage (this tab, until it closes). */
const KEY = "ev.token";

export interface Session {
  token: string;
  userId: string;
  role: "creator" | "admin";
  expiresAt: number;
}

function decodePayload(token: string): Record<string, unknown> | null {
  try {
    const part = token.split(".")[1];
    const json = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

export function sessionFromToken(token: string): Session | null {
  const p = decodePayload(token);
  if (!p || typeof p.sub !== "string") return null;
  const role = p.role === "admin" ? "admin" : "creator";
  const expiresAt = typeof p.exp === "number" ? p.exp * 1000 : Number.POSITIVE_INFINITY;
  if (expiresAt <= Date.now()) return null;
  return { token, userId: p.sub, role, expiresAt };
}

export function loadSession(): Session | null {
  const token = sessionStorage.getItem(KEY);
  const session = token ? sessionFromToken(token) : null;
  if (!session) sessionStorage.removeItem(KEY);
  return session;
}

export function saveSession(token: string): Session | null {
  const session = sessionFromToken(token);
  if (session) sessionStorage.setItem(KEY, token);
  return session;
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
