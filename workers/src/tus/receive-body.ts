import { CHECKSUM_ALGORITHMS, type ParsedChecksum } from "./protocol.ts";
import { type SessionResult, fail, ok } from "./offset-rules.ts";
import { NO_DURABLE, type PartSink } from "./part-sink.ts";
import { ByteQueue, TAIL_ROW_BYTES } from "./part-layout.ts";
import type { BodyReader } from "./body-reader.ts";

/** Bytes of a slow PATCH wait in memory at most this long before they are written to the tail. */
const PERSIST_AFTER_MS = 2_000;

/**
 * The fast path: a part is assembled in memory and sent to R2 as soon as it is full, while the
 * next one is being read (one part in flight at a time). What does not fill a part when the body
 * ends — normally, broken off or stopped — is kept in the SQLite tail. Returns false when R2
 * refused a write; those bytes are kept in the tail too, in order.
 */
export async function receiveStreaming(sink: PartSink, reader: BodyReader): Promise<boolean> {
  const partSize = sink.partSize;
  let stored = await sink.flushFullParts();
  const part = new ByteQueue();
  // The tail left by earlier PATCHes starts the current part; it is already durable and counted.
  const seeded = stored ? sink.takeTail(true) : null;
  let durable = seeded ? { seqs: seeded.seqs, bytes: seeded.bytes.length } : NO_DURABLE;
  if (seeded) part.push(seeded.bytes);
  let inflight: Promise<boolean> | null = null;
  /** When the oldest byte held only in memory arrived (null: nothing is). */
  let heldSince: number | null = null;
  const wake = () => (heldSince === null ? undefined : heldSince + PERSIST_AFTER_MS - Date.now());

  for (let chunk = await reader.next(wake()); chunk; chunk = await reader.next(wake())) {
    if (chunk.length > 0) {
      part.push(chunk);
      heldSince ??= Date.now();
    }
    while (stored && part.size >= partSize) {
      if (inflight && !(await inflight)) stored = false;
      inflight = null;
      if (!stored) break;
      inflight = sink.storePart(part.take(partSize), durable);
      durable = NO_DURABLE;
      if (part.size === 0) heldSince = null;
    }
    const stale = heldSince !== null && Date.now() - heldSince >= PERSIST_AFTER_MS;
    // A slow body: bytes do not wait in memory for a part to fill. They go to the tail, where they
    // count (HEAD reports them) and survive an eviction; the part is still sent whole from memory.
    if (stored && stale && part.size > durable.bytes) {
      if (inflight && !(await inflight)) stored = false;
      inflight = null;
      if (stored) {
        const all = part.takeAll();
        sink.appendTail(all.subarray(durable.bytes), false);
        part.push(all);
        // With no part in flight every committed tail row belongs to the part being assembled.
        durable = { seqs: sink.committedTailSeqs(), bytes: all.length };
        heldSince = null;
      }
    }
    // After a refused write nothing else goes to R2 in this PATCH (parts must stay in order).
    if (!stored && (part.size >= TAIL_ROW_BYTES || stale)) {
      sink.appendTail(part.takeAll().subarray(durable.bytes), false);
      durable = NO_DURABLE;
      heldSince = null;
    }
  }
  if (inflight && !(await inflight)) stored = false;
  sink.appendTail(part.takeAll().subarray(durable.bytes), false);
  return stored;
}

/**
 * Checksum path: the chunk is staged in SQLite (not counted) while its digest is computed, and
 * appended only if the digest matches. The value says whether every full part reached R2.
 */
export async function receiveVerified(sink: PartSink, reader: BodyReader, checksum: ParsedChecksum): Promise<SessionResult<boolean>> {
  const digest = new crypto.DigestStream(CHECKSUM_ALGORITHMS[checksum.algorithm]);
  const digestWriter = digest.getWriter();
  const pending = new ByteQueue();
  const start = sink.offset;
  let stagedBytes = 0;
  const stage = () => {
    const position = start + stagedBytes;
    stagedBytes += pending.size;
    sink.appendTail(pending.takeAll(), true, position);
  };
  for (let chunk = await reader.next(); chunk; chunk = await reader.next()) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    await digestWriter.write(chunk);
    if (pending.size >= TAIL_ROW_BYTES) stage();
  }
  if (pending.size > 0) stage();
  await digestWriter.close();
  const actual = new Uint8Array(await digest.digest);
  // "If the hashes do not match, the Server MUST respond with the 460 Checksum Mismatch status
  // code and MUST NOT append the content to the upload." A broken body cannot be verified either.
  if (reader.broken || !sameBytes(actual, checksum.digest)) {
    sink.dropStaged();
    const why = reader.stalled ? "stalled" : "broke off";
    return fail("CHECKSUM_MISMATCH", reader.broken ? `The chunk ${why} before its checksum could be verified; send it again.` : undefined);
  }
  sink.commitStaged(stagedBytes);
  return ok(await sink.flushFullParts());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
