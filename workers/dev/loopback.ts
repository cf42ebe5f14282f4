import type { Server } from "node:http";

export interface LoopbackServer {
  port: number;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Listens on a free loopback port (benchmarks and tests never listen anywhere else). */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
