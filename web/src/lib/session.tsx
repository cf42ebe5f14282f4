import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Session } from "./auth.ts";

export interface SessionCtx {
  session: Session | null;
  signIn: (token: string) => boolean;
  signOut: (expired?: boolean) => void;
}

export const SessionContext = createContext<SessionCtx>({ session: null, signIn: () => false, signOut: () => {} });
export const useSession = () => useContext(SessionContext);
