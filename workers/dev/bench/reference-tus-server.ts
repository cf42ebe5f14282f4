/**
 * The reference Node tus server (`@tus/server` with `@tus/file-store`), as the benchmark's baseline
 * for uploads: its own process (so it does not share the benchmark's event loop), files in a folder
 * the caller gives, listening on loopback. Prints `listening <port>` once ready.
 *
 *   node workers/dev/bench/reference-tus-server.ts <directory> [port]
 */
import { Server } from "@tus/server";
import { FileStore } from "@tus/file-store";

const [directory, port = "0"] = process.argv.slice(2);
if (!directory) {
  console.error("usage: reference-tus-server.ts <directory> [port]");
  process.exit(2);
}
const tus = new Server({ path: "/files", datastore: new FileStore({ directory }), maxSize: 500 * 1024 * 1024 });
const http = tus.listen({ host: "127.0.0.1", port: Number(port) }, () => {
  console.log(`listening ${(http.address() as { port: number }).port}`);
});
