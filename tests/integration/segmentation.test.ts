import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import { main } from '../../src/main/cli/main';
import { encodeWav16 } from '../../src/main/audio/wav';
import { DEFAULT_VAD_PARAMS, SileroVad, speechSegments } from '../../src/main/inference/vad';
import { jobResult, type SegmentationResult, type VadParams } from '../../src/shared/contract';
import { openTempStudio, runImport, tempDir } from '../helpers/fixtures';
import { boundaryScores, makeLongSpeech, type LongSpeech } from '../helpers/long-speech';

/**
 * Voice activity detection with the real Silero VAD v5 graph on real (espeak-ng) speech with known
 * pauses, through the job runner and the API handlers, then committing, editing and undoing segments
 * in a real project file.
 */
describe('voice activity detection (Silero VAD v5)', () => {
  let dir: string;
  let clean: LongSpeech;
  let noisy: LongSpeech;
  let vad: SileroVad;

  beforeAll(async () => {
    dir = tempDir('wavfusion-vad-');
    clean = makeLongSpeech(fs.mkdirSync(path.join(dir, 'clean'), { recursive: true })!, { seed: 3 });
    noisy = makeLongSpeech(fs.mkdirSync(path.join(dir, 'noisy'), { recursive: true })!, { seed: 11, noise: 0.01 });
    vad = await SileroVad.load();
  }, 60_000);
  afterAll(async () => {
    await vad.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Fails if a found segment contains a known pause of at least `min` seconds. */
  function spansNoLongPause(found: { start: number; end: number }[], truth: LongSpeech, min: number) {
    for (let i = 0; i + 1 < truth.speech.length; i++) {
      const pause = { start: truth.speech[i]!.end, end: truth.speech[i + 1]!.start };
      if (pause.end - pause.start < min) continue;
      for (const f of found) expect(f.start <= pause.start && f.end >= pause.end, `${f.start}-${f.end}`).toBe(false);
    }
  }

  it.each([
    ['clean', () => clean],
    ['noisy (white noise, RMS 0.01)', () => noisy],
  ])('finds every sentence of a %s recording within 100 ms (unpadded) and 250 ms (default padding)', async (_, get) => {
    const truth = get();
    const scores = await vad.scoreFile(truth.file);
    const unpadded = speechSegments(scores, { ...DEFAULT_VAD_PARAMS, paddingMs: 0 });
    const padded = speechSegments(scores, DEFAULT_VAD_PARAMS);
    const at100 = boundaryScores(unpadded, truth.speech, 0.1);
    const at250 = boundaryScores(padded, truth.speech, 0.25);
    console.log(`VAD ${_}: ${truth.speech.length} sentences, ${truth.duration.toFixed(1)} s;`, {
      unpadded100: at100,
      unpadded250: boundaryScores(unpadded, truth.speech, 0.25),
      padded100: boundaryScores(padded, truth.speech, 0.1),
      padded250: at250,
    });
    expect(padded).toHaveLength(truth.speech.length);
    expect(at250.recall).toBeGreaterThanOrEqual(0.9);
    expect(at250.precision).toBeGreaterThanOrEqual(0.9);
    if (!truth.noise) expect(at100.recall).toBeGreaterThanOrEqual(0.9);
    spansNoLongPause(padded, truth, 1);
  });

  it('resamples an 8 kHz phone-band recording and still finds the sentences', async () => {
    const phone = makeLongSpeech(fs.mkdirSync(path.join(dir, 'phone'), { recursive: true })!, {
      seed: 5,
      sampleRate: 8000,
      sentences: 6,
    });
    const found = speechSegments(await vad.scoreFile(phone.file));
    expect(boundaryScores(found, phone.speech, 0.25).recall).toBeGreaterThanOrEqual(0.9);
    spansNoLongPause(found, phone, 1);
  });

  it('finds nothing in silence or in pure noise', async () => {
    const silent = path.join(dir, 'silence.wav');
    fs.writeFileSync(silent, encodeWav16(new Float32Array(16000 * 20), 16000));
    expect(speechSegments(await vad.scoreFile(silent))).toEqual([]);
    const noise = path.join(dir, 'noise.wav');
    execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', noise, 'synth', '20', 'whitenoise', 'vol', '0.3']);
    expect(speechSegments(await vad.scoreFile(noise))).toEqual([]);
  });

  it('wavfusion segment INPUT --csv/--json prints the same segments, with the parameters', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => (out.push(String(c)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((c) => (err.push(String(c)), true));
    try {
      expect(await main(['segment', clean.file, '--csv', '--padding-ms', '0'])).toBe(0);
      const lines = out.join('').trim().split('\n');
      expect(lines[0]).toBe('path,start,end');
      const found = lines.slice(1).map((l) => {
        const [, start, end] = l.split(',');
        return { start: Number(start), end: Number(end) };
      });
      expect(boundaryScores(found, clean.speech, 0.1).recall).toBeGreaterThanOrEqual(0.9);
      out.length = 0;
      expect(await main(['segment', path.dirname(clean.file), '--json', '--max-segment-s', '4'])).toBe(0);
      const json = JSON.parse(out.join('')) as { params: VadParams; files: { segments: unknown[] }[] };
      expect(json.params).toEqual({ ...DEFAULT_VAD_PARAMS, maxSegmentS: 4 });
      expect(json.files.length).toBeGreaterThan(1); // the long file and the clips it was made of
      expect(await main(['segment', clean.file, '--threshold', '2'])).toBe(2);
      expect(err.join('')).toMatch(/threshold/);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('splits a segment longer than the maximum at its lowest-energy point, which lies in a pause', async () => {
    const scores = await vad.scoreFile(clean.file);
    // A minimum silence longer than every pause joins all the sentences; max 8 s forces splits.
    const params: VadParams = { ...DEFAULT_VAD_PARAMS, minSilenceMs: 5000, maxSegmentS: 8 };
    const found = speechSegments(scores, params);
    expect(found.length).toBeGreaterThan(3);
    for (const s of found) expect(s.end - s.start).toBeLessThanOrEqual(8 + 1e-9);
    for (let i = 0; i + 1 < found.length; i++) {
      const cut = found[i]!.end;
      expect(found[i + 1]!.start).toBeCloseTo(cut, 6);
      const inPause = clean.speech.some(
        (t, k) => k + 1 < clean.speech.length && cut >= t.end && cut <= clean.speech[k + 1]!.start,
      );
      expect(inPause, `cut at ${cut} s`).toBe(true);
    }
  });
});

describe('segmentation in a project', () => {
  let studio: Studio;
  let dir: string;
  let speech: LongSpeech;
  let call: (name: string, input?: unknown) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    ({ studio, dir } = openTempStudio());
    const audioDir = fs.mkdirSync(path.join(dir, 'audio'), { recursive: true })!;
    speech = makeLongSpeech(audioDir, { seed: 9, sentences: 8 });
    for (const f of fs.readdirSync(audioDir)) if (f.startsWith('clip-')) fs.rmSync(path.join(audioDir, f));
    expect((await runImport(studio, audioDir)).state).toBe('succeeded');
    const handlers = createHandlers(studio);
    call = (name, input) => invokeOperation(handlers, name, input);
  }, 60_000);
  afterAll(async () => {
    await studio.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function segmentJob(input: unknown): Promise<SegmentationResult> {
    const { jobId } = await call('startSegmentation', input);
    const status = await studio.jobs.wait(jobId);
    expect(status.state, status.error).toBe('succeeded');
    return jobResult(status, 'segment')!;
  }

  it('proposes segments as a job, commits them in one undoable step, never over a labelled utterance', async () => {
    const [whole] = studio.store.rows();
    expect(whole!.end).toBeCloseTo(speech.duration, 1);
    const result = await segmentJob({});
    const [proposal] = result.proposals;
    expect(result.failures).toEqual([]);
    expect(proposal!.segments).toHaveLength(8);
    // Every proposal overlaps the whole-file utterance the import made: reported, not overwritten.
    for (const s of proposal!.segments) expect(s.overlaps).toEqual([whole!.id]);
    expect(studio.store.rows()).toHaveLength(1);

    const segments = proposal!.segments.map(({ start, end }) => ({ start, end }));
    await expect(
      call('commitSegments', { proposals: [{ recordingId: proposal!.recordingId, segments }], onOverlap: 'refuse' }),
    ).rejects.toThrow(/overlaps existing utterance\(s\) \d+; nothing was committed/);
    const skipped = await call('commitSegments', { proposals: [{ recordingId: proposal!.recordingId, segments }] });
    expect(skipped.created).toEqual([]);
    expect(skipped.skipped).toHaveLength(8);

    // Labelled, the whole-file utterance is not replaceable either.
    await call('setLabel', { utteranceId: whole!.id, labelId: 1 });
    const kept = await call('commitSegments', {
      proposals: [{ recordingId: proposal!.recordingId, segments }],
      onOverlap: 'replace-unlabelled',
    });
    expect(kept.created).toEqual([]);
    await call('undo'); // the label

    const events: string[] = [];
    const off = studio.subscribe((e, p) => events.push(`${e}:${JSON.stringify(p)}`));
    const done = await call('commitSegments', {
      proposals: [{ recordingId: proposal!.recordingId, segments }],
      onOverlap: 'replace-unlabelled',
    });
    off();
    expect(done.created).toHaveLength(8);
    expect(done.replaced).toEqual([whole!.id]);
    expect(events).toEqual(['utterancesChanged:{"change":"segments","count":9}']);
    const rows = studio.store.rows();
    expect(rows.map((r) => [r.start, r.end])).toEqual(segments.map((s) => [s.start, s.end]));
    expect(boundaryScores(rows, speech.speech, 0.25).recall).toBeGreaterThanOrEqual(0.9);

    // One Undo: the whole-file utterance is back and the eight are gone; one Redo: the reverse.
    expect((await call('undo')).row.id).toBe(whole!.id);
    expect(studio.store.rows().map((r) => r.id)).toEqual([whole!.id]);
    await call('redo');
    expect(studio.store.rows().map((r) => r.id)).toEqual(done.created);
    expect(studio.info().counts.utterances).toBe(8);
  });

  it('runs over a selection (a time range of one recording) and reports a file gone missing', async () => {
    const rec = studio.store.recordings.list()[0]!;
    const t = speech.speech;
    const range = { start: t[2]!.start - 0.3, end: t[4]!.end + 0.3 };
    const part = await segmentJob({ scope: { recordingIds: [rec.id], range } });
    const found = part.proposals[0]!.segments;
    expect(found).toHaveLength(3);
    expect(boundaryScores(found, t.slice(2, 5), 0.25).recall).toBeGreaterThanOrEqual(0.9);
    for (const s of found) expect(s.overlaps).toHaveLength(1);

    const moved = `${rec.path}.moved`;
    fs.renameSync(rec.path, moved);
    try {
      const gone = await segmentJob({});
      expect(gone.proposals).toEqual([]);
      expect(gone.failures).toEqual([
        { recordingId: rec.id, recordingName: rec.fileName, reason: expect.stringMatching(/not found/) },
      ]);
    } finally {
      fs.renameSync(moved, rec.path);
    }
    await expect(call('startSegmentation', { scope: { range: { start: 0, end: 1 } } })).rejects.toThrow(
      /a range needs exactly one recording/,
    );
  });
});
