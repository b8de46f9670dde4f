import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Studio } from '../../src/main/api/studio';
import { startLoopbackHost, type LoopbackHost } from '../../src/main/host/loopback-host';
import { readWavSegment } from '../../src/main/audio/wav';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

/** Writes bytes to a temporary file and returns its path. */
async function writeTemp(bytes: Buffer): Promise<string> {
  const file = path.join(tempDir(), 'clip.wav');
  await fs.promises.writeFile(file, bytes);
  return file;
}

let studio: Studio;
let host: LoopbackHost;
let base: string;

beforeAll(async () => {
  ({ studio } = openTempStudio());
  const corpus = tempDir();
  copyInto(corpus, demoClips('spk_a', 3));
  await runImport(studio, corpus);
  const renderer = tempDir();
  fs.writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>studio</title>');
  host = await startLoopbackHost({ studio, rendererDir: renderer, token: 'test-token-123' });
  base = `http://127.0.0.1:${host.port}`;
});
afterAll(async () => {
  await host.close();
  await studio.close();
});

const api = (name: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/${name}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer test-token-123', ...headers },
    body: JSON.stringify(body),
  });

describe('loopback host', () => {
  it('binds to 127.0.0.1 and prints a URL carrying the token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=test-token-123`);
  });

  it('refuses requests without the token, with a wrong token, or for another Host', async () => {
    expect((await fetch(`${base}/`)).status).toBe(403);
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(403);
    expect((await api('getProjectInfo', {}, { Authorization: 'Bearer nope' })).status).toBe(403);
    // fetch cannot set Host; a DNS-rebinding page would arrive with its own host name.
    const rebinding = await new Promise<number>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port: host.port, path: '/?token=test-token-123', headers: { Host: 'evil.example:80' } },
          (res) => resolve(res.statusCode ?? 0),
        )
        .on('error', reject);
    });
    expect(rebinding).toBe(403);
  });

  it('serves the page with a strict CSP and sets a SameSite=Strict HttpOnly cookie from the token', async () => {
    const res = await fetch(`${base}/?token=test-token-123`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const withCookie = await fetch(`${base}/api/getProjectInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie.split(';')[0]! },
      body: '{}',
    });
    expect(withCookie.status).toBe(200);
    expect((await fetch(`${base}/../../etc/passwd?token=test-token-123`)).status).toBe(404);
  });

  it('validates every request against the contract', async () => {
    const bad = await api('setLabel', { utteranceId: 'one', labelId: 1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      code: 'invalid_request',
      issues: [expect.stringMatching(/^utteranceId/)],
    });
    const notJson = await fetch(`${base}/api/getProjectInfo`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Authorization: 'Bearer test-token-123' },
      body: '{}',
    });
    expect(notJson.status).toBe(400);
    expect((await api('nope', {})).status).toBe(404);
  });

  it('answers operations and pushes events over an authenticated WebSocket', async () => {
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/events`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('open', () => reject(new Error('opened without a token')));
        ws.on('error', () => {});
      }),
    ).resolves.toBe(403);
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/events?token=test-token-123`);
    await new Promise((r) => ws.once('open', r));
    const event = new Promise<{ event: string; payload: { row: { labelId: number } } }>((resolve) =>
      ws.on('message', (m) => {
        const parsed = JSON.parse(String(m));
        if (parsed.event === 'annotationChanged') resolve(parsed);
      }),
    );
    const rows = (await (await api('listUtterances', {})).json()) as { rows: { id: number }[] };
    const res = await api('setLabel', { utteranceId: rows.rows[0]!.id, labelId: 2 });
    expect(res.status).toBe(200);
    expect((await event).payload.row.labelId).toBe(2);
    ws.close();
  });

  it('refuses a WebSocket or a request from another origin, even with the cookie (another port is the same site)', async () => {
    const cookie = `wavfusion_token=test-token-123`;
    const open = (origin: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/events`, { origin, headers: { Cookie: cookie } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('error', () => {});
      });
    expect(await open('http://127.0.0.1:1')).toBe(403);
    expect(await open('http://localhost:8080')).toBe(403);
    expect(await open('null')).toBe(403);
    expect(await open(`http://127.0.0.1:${host.port}`)).toBe(101);
    expect((await api('getProjectInfo', {}, { Origin: 'http://127.0.0.1:1' })).status).toBe(403);
    expect((await api('getProjectInfo', {}, { Origin: `http://localhost:${host.port}` })).status).toBe(200);
  });

  it('answers a malformed URL with 400 and an oversized body with 413 and a message', async () => {
    const raw = (pathName: string) =>
      new Promise<number>((resolve, reject) => {
        http
          .get(
            { host: '127.0.0.1', port: host.port, path: pathName, headers: { Authorization: 'Bearer test-token-123' } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
          .on('error', reject);
      });
    expect(await raw('/%E0%A4%A')).toBe(400);
    expect(await raw('/assets/%zz.js')).toBe(400);
    const big = await api('setLabel', { utteranceId: 1, labelId: 1, pad: 'x'.repeat(2 * 1024 * 1024) });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { message: string }).message).toMatch(/too large: the limit is 1 MB/);
    expect((await api('getProjectInfo', {})).status).toBe(200);
  });

  it('serves utterance clips as WAV, with byte ranges', async () => {
    const rows = (await (await api('listUtterances', {})).json()) as { rows: { id: number }[] };
    const wave = (await (await api('getWaveform', { utteranceId: rows.rows[1]!.id })).json()) as {
      mediaPath: string;
      peaks: number[];
    };
    expect(wave.peaks.length).toBeGreaterThan(50);
    const url = `${base}/media/${wave.mediaPath}`;
    const full = await fetch(url, { headers: { Authorization: 'Bearer test-token-123' } });
    expect(full.headers.get('content-type')).toBe('audio/wav');
    const bytes = Buffer.from(await full.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('RIFF');
    const part = await fetch(url, { headers: { Authorization: 'Bearer test-token-123', Range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true);
  });

  it('serves a window of a recording (the deep zoom of a long one): its samples, clamped to the recording; bad windows refused', async () => {
    const auth = { Authorization: 'Bearer test-token-123' };
    const rows = (await (await api('listUtterances', {})).json()) as { rows: { id: number; recordingId: number }[] };
    const id = rows.rows[0]!.id;
    const recording = studio.store.recordings.byId(rows.rows[0]!.recordingId)!;
    const wave = (await (await api('getWaveform', { utteranceId: id, window: { start: 0.5, end: 1.25 } })).json()) as {
      mediaPath: string;
      clipStart: number;
      clipEnd: number;
      windowed: boolean;
      recordingDurationS: number;
      peaks: number[];
      regions: { utteranceId: number }[];
    };
    expect(wave).toMatchObject({
      clipStart: 0.5,
      clipEnd: 1.25,
      windowed: true,
      recordingDurationS: recording.durationS,
    });
    expect(wave.mediaPath).toBe(`recordings/${recording.id}/clip.wav?start=0.5&end=1.25`);
    expect(wave.peaks).toHaveLength(75);
    expect(wave.regions.map((r) => r.utteranceId)).toContain(id);
    const wav = Buffer.from(await (await fetch(`${base}/media/${wave.mediaPath}`, { headers: auth })).arrayBuffer());
    const source = (await readWavSegment(recording.path, 0.5, 1.25))!;
    const clip = (await readWavSegment(await writeTemp(wav), 0, 10))!;
    expect(clip.sampleRate).toBe(source.sampleRate);
    expect(clip.samples.length).toBe(Math.round(0.75 * source.sampleRate));
    let worst = 0;
    for (let i = 0; i < clip.samples.length; i++)
      worst = Math.max(worst, Math.abs(clip.samples[i]! - source.samples[i]!));
    expect(worst).toBeLessThan(1 / 16384);
    // A window running past the end is cut at the end; one starting past it is refused, saying why.
    const past = (await (
      await api('getWaveform', {
        utteranceId: id,
        window: { start: recording.durationS - 0.25, end: recording.durationS + 5 },
      })
    ).json()) as { clipEnd: number };
    expect(past.clipEnd).toBe(recording.durationS);
    const after = await api('getWaveform', {
      utteranceId: id,
      window: { start: recording.durationS + 1, end: recording.durationS + 2 },
    });
    expect(after.status).toBe(400);
    expect(((await after.json()) as { message: string }).message).toMatch(/past the end of .*\.wav/);
    for (const window of [
      { start: 2, end: 1 },
      { start: 0, end: 601 },
      { start: -1, end: 1 },
    ]) {
      const res = await api('getWaveform', { utteranceId: id, window });
      expect(res.status).toBe(400);
    }
    const backwards = await fetch(`${base}/media/recordings/${recording.id}/clip.wav?start=2&end=1`, { headers: auth });
    expect(backwards.status).toBe(400);
    expect(await backwards.text()).toMatch(/start to a later end/);
    const missing = await fetch(`${base}/media/recordings/${recording.id}/clip.wav?start=1`, { headers: auth });
    expect(missing.status).toBe(400);
    expect((await fetch(`${base}/media/recordings/99999/clip.wav?start=0&end=1`, { headers: auth })).status).toBe(404);
  });
});
