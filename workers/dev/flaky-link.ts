/**
 * A loopback TCP link for tests and benchmarks: forwards 127.0.0.1:<port> to a target, can throttle
 * the upload direction (client → server) to a given rate, and can drop every open connection at
 * once, like a phone losing its signal. Counts the bytes it carried upstream.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface FlakyLink {
  port: number;
  /** Bytes carried client → server since start (request lines, headers and bodies). */
  bytesUp(): number;
  /** Of those, the bytes the link handed to the server (the rest were in flight when a connection died). */
  bytesDelivered(): number;
  /** Destroys every open connection, both sides. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function openFlakyLink(target: { host: string; port: number }, opts: { upBytesPerSec?: number } = {}): Promise<FlakyLink> {
  const sockets = new Set<Socket>();
  let up = 0;
  let delivered = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const forget = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", forget).on("close", forget);
    upstream.on("error", forget).on("close", forget);
    upstream.pipe(client);
    // Each chunk gets a slot on the link's clock; it is written when its slot ends, and the sender is
    // held until then (and until the server side drains), so the rate holds whatever the buffers.
    let slotEnd = Date.now();
    client.on("data", (chunk: Buffer) => {
      up += chunk.length;
      client.pause();
      const now = Date.now();
      slotEnd = Math.max(slotEnd, now) + (opts.upBytesPerSec ? (chunk.length / opts.upBytesPerSec) * 1000 : 0);
      setTimeout(() => {
        if (upstream.destroyed) return;
        delivered += chunk.length;
        if (upstream.write(chunk)) client.resume();
        else upstream.once("drain", () => client.resume());
      }, slotEnd - now);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    bytesUp: () => up,
    bytesDelivered: () => delivered,
    dropAll() {
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
