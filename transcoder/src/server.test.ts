/**
 * The transcoder's HTTP server on port 0, with jobs talking to an in-memory twin of the Worker's
 * internal routes. Real ffmpeg; no timing assertions.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscodeRequest } from '../../workers/src/shared/transcode.ts';
import { resolveBinaries, type FfmpegBinaries } from './binaries.ts';
import type { Logger } from './ffmpeg.ts';
import { createTranscoderServer, parseTranscodeRequest, type TranscoderServer } from './server.ts';
import { makeClip, processesMentioning } from './testing/clips.ts';
import { waitFor, WorkerTwin } from './testing/worker-twin.ts';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'transcoder-server-test-'));
const workDir = mkdtempSync(join(dir, 'work-'));
let bin: FfmpegBinaries;
let twin: WorkerTwin;
let transcoder: TranscoderServer;
let small: Buffer;
let long: Buffer;

beforeAll(async () => {
  bin = await resolveBinaries();
  twin = await new WorkerTwin().start();
  const [smallFile, longFile] = await Promise.all([
    makeClip(bin.ffmpegPath, join(dir, 'small.mp4'), { size: '320x240', rate: 25, seconds: 2, audio: true }),
    makeClip(bin.ffmpegPath, join(dir, 'long.mp4'), { size: '640x360', rate: 30, seconds: 30, audio: true }),
  ]);
  small = readFileSync(smallFile);
  long = readFileSync(longFile);
  transcoder = await createTranscoderServer({
    port: 0,
    host: '127.0.0.1',
    concurrency: 1,
    workDir,
    ...bin,
    logger: quiet,
    pollMs: 200,
    progressIntervalMs: 250,
  });
});

afterAll(async () => {
  await transcoder?.close();
  await twin?.close();
  rmSync(dir, { recursive: true, force: true });
});

function jobRequest(videoId: string, attempt = 1): TranscodeRequest {
  return { videoId, attempt, token: `${videoId}-token-${attempt}`, callbackBase: twin.callbackBase(videoId), segmentSeconds: 2 };
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${transcoder.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

describe('transcoder server', () => {
  it('reports its health', async () => {
    expect(await call('GET', '/health')).toEqual({
      status: 200,
      json: { ok: true, running: [], capacity: 1, ffmpeg: bin.ffmpegPath },
    });
  });

  it('answers 404 with a JSON error for unknown routes and jobs', async () => {
    expect(await call('GET', '/nothing')).toMatchObject({ status: 404, json: { error: 'not_found' } });
    expect(await call('DELETE', '/jobs/unknown')).toMatchObject({ status: 404, json: { error: 'not_found' } });
  });

  it('refuses a bad body with 400 and a sentence', async () => {
    const notJson = await call('POST', '/jobs', '{nope');
    expect(notJson).toEqual({ status: 400, json: { error: 'bad_request', message: 'The request body is not valid JSON.' } });
    const good = jobRequest('shape');
    for (const bad of [
      [],
      { ...good, videoId: '../etc' },
      { ...good, attempt: 0 },
      { ...good, token: '' },
      { ...good, callbackBase: 'ftp://example.com/x' },
      { ...good, callbackBase: 'not a url' },
      { ...good, segmentSeconds: '2' },
    ]) {
      const res = await call('POST', '/jobs', bad);
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toMatch(/^[A-Za-z].*\.$/);
    }
    expect(parseTranscodeRequest({ ...good, extra: true })).toEqual(good);
    expect((await call('GET', '/health')).json).toMatchObject({ running: [] });
  });

  it('accepts a job, is idempotent on redelivery, busy at capacity, and cancels on DELETE', async () => {
    const a = jobRequest('video-a');
    const twinA = twin.addJob(a.videoId, { source: long, tokens: [a.token] });
    expect(await call('POST', '/jobs', a)).toEqual({ status: 202, json: { accepted: true, videoId: 'video-a' } });
    expect(await call('POST', '/jobs', a)).toEqual({ status: 202, json: { accepted: true, videoId: 'video-a' } });
    expect((await call('GET', '/health')).json).toMatchObject({ running: ['video-a'] });

    const b = jobRequest('video-b');
    const busy = await call('POST', '/jobs', b);
    expect(busy).toMatchObject({ status: 503, json: { error: 'busy' } });

    // Once the encode is under way, cancel it.
    await waitFor(() => twinA.puts.some((p) => p.path.endsWith('.ts')), 60_000, 'a first segment');
    expect(twinA.sourceRequests).toEqual([a.token]); // the redelivery did not start a second run
    expect((await call('DELETE', '/jobs/video-a')).status).toBe(204);
    await waitFor(() => readdirSync(workDir).length === 0, 15_000, 'the job directory to be removed');
    expect(processesMentioning(workDir)).toEqual([]);
    expect((await call('GET', '/health')).json).toMatchObject({ running: [] });
    expect(twinA.results).toEqual([]);
  });

  it('replaces a running attempt with a newer one; only the newer one reports', async () => {
    const first = jobRequest('video-c', 1);
    const second = jobRequest('video-c', 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const twinC = twin.addJob('video-c', {
      source: small,
      tokens: [first.token, second.token],
      holdSource: (token) => (token === first.token ? held : undefined),
    });
    expect((await call('POST', '/jobs', first)).status).toBe(202);
    await waitFor(() => twinC.sourceRequests.length === 1, 10_000, 'the first download');
    expect((await call('POST', '/jobs', second)).status).toBe(202);
    await waitFor(() => twinC.results.length > 0, 60_000, 'a result');
    release();
    expect(twinC.results).toEqual([{ token: second.token, result: expect.objectContaining({ ok: true }) }]);
    expect(twinC.progress.every((p) => p.token === second.token)).toBe(true);
    await waitFor(() => transcoder.running.size === 0 && readdirSync(workDir).length === 0, 15_000, 'cleanup');
  });
});
