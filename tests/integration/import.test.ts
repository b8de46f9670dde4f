import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import type { ImportReport } from '../../src/shared/contract';
import { AUDIO_FIXTURES, copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

let studio: Studio | null = null;
afterEach(async () => {
  await studio?.close();
  studio = null;
});

const reportOf = async (s: Studio, source: string) => {
  const status = await runImport(s, source);
  expect(status.error).toBeUndefined();
  expect(status.state).toBe('succeeded');
  return status.result as ImportReport;
};

describe('folder import', () => {
  it('imports real audio of every supported format with duration, rate and channels', async () => {
    ({ studio } = openTempStudio());
    const report = await reportOf(studio, AUDIO_FIXTURES);
    expect(report.failures).toEqual([]);
    // 6 formats of speech, a 44.1 kHz stereo WAV, and the 1 kHz tone (WAV, FLAC) of the spectrogram tests.
    expect(report.recordingsAdded).toBe(9);
    const byName = new Map(studio.store.recordings.list().map((r) => [r.fileName, r]));
    for (const name of ['speech.wav', 'speech.flac', 'speech.mp3', 'speech.ogg', 'speech.opus', 'speech.m4a']) {
      const r = byName.get(name);
      expect(r, name).toBeDefined();
      // Lossy codecs pad a few ms (encoder delay); the source is 1.5 s.
      expect(Math.abs(r!.durationS - 1.5), name).toBeLessThan(0.08);
      expect(r!.channels).toBe(1);
      expect(r!.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(byName.get('speech.wav')!.sampleRate).toBe(16000);
    expect(byName.get('speech.opus')!.sampleRate).toBe(48000);
    const stereo = byName.get('speech-44k-stereo.wav')!;
    expect([stereo.sampleRate, stereo.channels]).toEqual([44100, 2]);
    // Peaks: 100 per second, in 0..1, not all silent.
    const peaks = studio.store.recordings.peaks(stereo.id);
    expect(peaks.length).toBe(150);
    expect(Math.max(...peaks)).toBeGreaterThan(0.1);
    expect(Math.max(...peaks)).toBeLessThanOrEqual(1);
  });

  it('reads .txt and .lab sidecars and takes the speaker from the sub-folder', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    const [a, b] = demoClips('spk_c', 2);
    fs.copyFileSync(a!, path.join(root, 'top.wav'));
    fs.writeFileSync(path.join(root, 'top.lab'), 'from a lab file\n');
    copyInto(path.join(root, 'alice'), [b!]);
    fs.writeFileSync(path.join(root, 'alice', path.basename(b!).replace('.wav', '.txt')), '\uFEFF  spaced   text \r\n');
    fs.writeFileSync(path.join(root, 'notes.md'), 'not audio, ignored');
    const report = await reportOf(studio, root);
    expect(report.failures).toEqual([]);
    const rows = studio.store.rows();
    expect(rows.map((r) => [r.recordingName, r.speaker, r.transcript])).toEqual([
      [path.basename(b!), 'alice', 'spaced text'],
      ['top.wav', null, 'from a lab file'],
    ]);
  });

  it('imports the good files of a folder and reports each bad one by name and reason', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    const good = demoClips('spk_a', 2);
    copyInto(root, good);
    const wav = fs.readFileSync(good[0]!);
    fs.writeFileSync(path.join(root, 'empty.wav'), '');
    fs.writeFileSync(path.join(root, 'truncated.wav'), wav.subarray(0, Math.floor(wav.length / 3)));
    fs.writeFileSync(
      path.join(root, 'random.wav'),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)),
    );
    fs.writeFileSync(path.join(root, 'notes.mp3'), 'This is a text file with an mp3 name.\n');
    const report = await reportOf(studio, root);
    expect(report.recordingsAdded).toBe(2);
    const reasons = Object.fromEntries(report.failures.map((f) => [path.basename(f.path), f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['empty.wav', 'notes.mp3', 'random.wav', 'truncated.wav']);
    expect(reasons['empty.wav']).toBe('empty file (0 bytes)');
    expect(reasons['truncated.wav']).toMatch(
      /^truncated WAV: header declares \d+\.\d\d s of audio, file holds \d+\.\d\d s$/,
    );
    expect(reasons['random.wav']).toMatch(/not an audio file/);
    expect(reasons['notes.mp3']).toMatch(/not an audio file/);
  });

  it('is idempotent: importing the same folder twice adds nothing', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    copyInto(root, demoClips('spk_b', 3));
    await reportOf(studio, root);
    const again = await reportOf(studio, root);
    expect(again).toMatchObject({ recordingsAdded: 0, recordingsReused: 3, utterancesAdded: 0 });
    expect(studio.store.utterances.count()).toBe(3);
  });

  it('reports a missing source clearly', async () => {
    ({ studio } = openTempStudio());
    const status = await runImport(studio, '/nonexistent/folder');
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/no such file or folder/);
  });
});

describe('manifest import', () => {
  it('imports segments with transcripts, speakers and labels as annotations of the named source', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    const [a, b] = copyInto(path.join(root, 'audio'), demoClips('spk_d', 2));
    fs.writeFileSync(
      path.join(root, 'corpus.csv'),
      'path,text,speaker,label,start,end\n' +
        `audio/${path.basename(a!)},first half,d1,angry,0,1.0\n` +
        `audio/${path.basename(a!)},second half,d1,frustrated,1.0,2.0\n` +
        `audio/${path.basename(b!)},whole file,d2,,,\n` +
        `audio/${path.basename(b!)},too long,d2,sad,0,999\n` +
        `audio/missing.wav,gone,d3,sad,,\n`,
    );
    const report = await reportOf(studio, path.join(root, 'corpus.csv'));
    expect(report).toMatchObject({
      recordingsAdded: 2,
      utterancesAdded: 3,
      annotationsAdded: 2,
      labelsAdded: ['frustrated'],
    });
    expect(report.failures.map((f) => f.path.replace(root, '<root>'))).toEqual([
      'corpus.csv:5',
      '<root>/audio/missing.wav',
    ]);
    expect(report.failures[0]!.reason).toMatch(/end 999 s is past the end/);
    expect(report.failures[1]!.reason).toBe('file not found');
    const rows = studio.store.rows();
    const labels = new Map(studio.store.labels.list().map((l) => [l.id, l.name]));
    expect(
      rows.map((r) => [r.transcript, r.speaker, r.importedLabelId && labels.get(r.importedLabelId), r.labelId]),
    ).toEqual([
      ['first half', 'd1', 'angry', null],
      ['second half', 'd1', 'frustrated', null],
      ['whole file', 'd2', null, null],
    ]);
    const annotation = studio.store.annotations.get(rows[0]!.id, 'import', 'corpus.csv');
    expect(annotation).toMatchObject({ origin: 'import', annotator: 'corpus.csv' });
  });

  it('fails a malformed CSV manifest as a whole with a clear message and imports nothing', async () => {
    ({ studio } = openTempStudio());
    const file = path.join(tempDir(), 'bad.csv');
    fs.writeFileSync(file, 'path,text\n"a.wav,unterminated\n');
    const status = await runImport(studio, file);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(/bad\.csv is not a valid CSV file/);
    expect(studio.store.recordings.count()).toBe(0);
  });
});

describe('moved files', () => {
  it('marks a moved recording missing and relinks it by checksum, keeping its labels', async () => {
    const opened = openTempStudio();
    studio = opened.studio;
    const root = tempDir();
    copyInto(root, demoClips('spk_a', 2));
    await reportOf(studio, root);
    const first = studio.store.rows()[0]!;
    studio.annotations.setLabel(first.id, studio.store.labels.byName('sad')!.id);
    await studio.close();

    const moved = tempDir();
    for (const f of fs.readdirSync(root)) fs.renameSync(path.join(root, f), path.join(moved, 'renamed-' + f));
    const { Studio } = await import('../../src/main/api/studio');
    studio = Studio.open(opened.file);
    expect(studio.info().counts.missingRecordings).toBe(2);
    const id = studio.jobs.start('relink', 'relink', (ctx) => studio!.relinker.relink(moved, ctx));
    const status = await studio.jobs.wait(id);
    expect(status.result).toEqual({ relinked: 2, stillMissing: [] });
    expect(studio.info().counts.missingRecordings).toBe(0);
    const row = studio.annotations.row(first.id);
    expect(row.labelId).toBe(studio.store.labels.byName('sad')!.id);
    expect(path.basename(studio.store.recordings.byId(row.recordingId)!.path)).toMatch(/^renamed-/);
  });
});
