import { parse } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { decodeAudioFile } from '../../src/main/audio/decode';
import { safeStem } from '../../src/main/export/export-service';
import type { ExportRequest, ExportSummary, JobStatus } from '../../src/shared/contract';
import { AUDIO_FIXTURES, DEMO_CORPUS, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

let studio: Studio;
const label = (name: string) => studio.store.labels.byName(name)!.id;

async function runExport(request: ExportRequest): Promise<JobStatus> {
  const id = studio.jobs.start('export', 'test export', (ctx) => studio.exporter.export(request, ctx));
  return studio.jobs.wait(id);
}

function readMetadata(folder: string): Record<string, string>[] {
  return ['train', 'validation', 'test'].flatMap((split) => {
    const file = path.join(folder, split, 'metadata.csv');
    if (!fs.existsSync(file)) return [];
    return (parse(fs.readFileSync(file), { columns: true }) as Record<string, string>[]).map((r) => ({ ...r, split }));
  });
}

beforeEach(async () => {
  ({ studio } = openTempStudio());
  await runImport(studio, DEMO_CORPUS);
  // Label 24 utterances across the 4 speakers: the IEMOCAP labels by sentence style.
  const rows = studio.store.rows();
  const style = ['neutral', 'neutral', 'happy', 'happy', 'angry', 'angry', 'sad', 'sad', 'neutral'];
  rows.forEach((r, i) => {
    if (i % 9 < 6 || i % 9 === 6) studio.annotations.setLabel(r.id, label(style[i % 9]!));
  });
});
afterEach(async () => {
  await studio.close();
});

describe('export', () => {
  it('writes an audiofolder: 16 kHz mono clips, metadata.csv per split, label map and provenance', async () => {
    const folder = path.join(tempDir(), 'export');
    const status = await runExport({ folder });
    expect(status.error).toBeUndefined();
    const summary = status.result as ExportSummary;
    expect(summary.rows).toBe(28);
    const rows = readMetadata(folder);
    expect(rows).toHaveLength(28);
    expect(Object.keys(rows[0]!)).toEqual([
      'file_name',
      'label',
      'text',
      'speaker',
      'start',
      'end',
      'annotator',
      'valence',
      'arousal',
      'dominance',
      'note',
      'unsure',
      'annotated_at',
      'consensus_label',
      'votes',
      'soft_label',
      'num_annotators',
      'item_agreement',
      'adjudicated',
      'split',
    ]);
    for (const r of rows) {
      const clip = path.join(folder, r.split!, r.file_name!);
      expect(fs.existsSync(clip), clip).toBe(true);
      expect(r.annotator).toBe('annotator');
    }
    const first = rows[0]!;
    const audio = await decodeAudioFile(path.join(folder, first.split!, first.file_name!));
    expect([audio.sampleRate, audio.channels.length]).toEqual([16000, 1]);
    expect(Math.abs(audio.durationS - (Number(first.end) - Number(first.start)))).toBeLessThan(0.01);
    // speaker independence
    const splitsBySpeaker = new Map<string, Set<string>>();
    for (const r of rows) splitsBySpeaker.set(r.speaker!, (splitsBySpeaker.get(r.speaker!) ?? new Set()).add(r.split!));
    for (const s of splitsBySpeaker.values()) expect(s.size).toBe(1);
    const labelMap = JSON.parse(fs.readFileSync(path.join(folder, 'label_map.json'), 'utf8'));
    expect(labelMap.labels).toEqual(['neutral', 'happy', 'angry', 'sad']);
    expect(labelMap.label2id.sad).toBe(3);
    const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8'));
    expect(provenance).toMatchObject({
      project: { name: 'project' },
      format: 'audiofolder',
      sampleRate: 16000,
      labelSources: 'human only',
      annotators: ['annotator'],
      counts: { rows: 28, skippedUnlabelled: 8 },
      split: { seed: 13 },
    });
    expect(provenance.app.version).toBeTruthy();
  });

  it('exports only human labels unless imported ones are asked for', async () => {
    const manifest = path.join(tempDir(), 'm.csv');
    fs.writeFileSync(manifest, `path,label\n${path.join(AUDIO_FIXTURES, 'speech.wav')},angry\n`);
    await runImport(studio, manifest);
    const human = await runExport({ folder: path.join(tempDir(), 'h'), format: 'jsonl' });
    expect((human.result as ExportSummary).rows).toBe(28);
    const withImported = await runExport({ folder: path.join(tempDir(), 'i'), format: 'jsonl', includeImported: true });
    expect((withImported.result as ExportSummary).rows).toBe(29);
  });

  it('writes the same rows as CSV and JSONL manifests pointing at the source audio', async () => {
    const csvDir = path.join(tempDir(), 'csv');
    await runExport({ folder: csvDir, format: 'csv' });
    const csv = parse(fs.readFileSync(path.join(csvDir, 'dataset.csv')), { columns: true }) as Record<string, string>[];
    const jsonlDir = path.join(tempDir(), 'jsonl');
    await runExport({ folder: jsonlDir, format: 'jsonl' });
    const jsonl = fs
      .readFileSync(path.join(jsonlDir, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(csv).toHaveLength(28);
    expect(jsonl.map((r) => [r.utterance_id, r.label, r.split])).toEqual(
      csv.map((r) => [Number(r.utterance_id), r.label, r.split]),
    );
    expect(fs.existsSync(csv[0]!.path!)).toBe(true);
    expect(fs.readdirSync(csvDir).sort()).toEqual(['dataset.csv', 'label_map.json', 'provenance.json']);
  });

  it('gives the same split for the same seed and refuses a non-empty folder unless told to overwrite', async () => {
    const folder = path.join(tempDir(), 'e');
    await runExport({ folder, seed: 5 });
    const first = readMetadata(folder);
    const refused = await runExport({ folder, seed: 5 });
    expect(refused.state).toBe('failed');
    expect(refused.error).toMatch(/is not empty/);
    fs.writeFileSync(path.join(folder, 'my-notes.txt'), 'keep me');
    const again = await runExport({ folder, seed: 5, overwrite: true });
    expect(again.state).toBe('succeeded');
    expect(readMetadata(folder)).toEqual(first);
    expect(fs.readFileSync(path.join(folder, 'my-notes.txt'), 'utf8')).toBe('keep me');
  });

  it('never writes outside the chosen folder, whatever the recording names', () => {
    expect(safeStem('../../etc/passwd.wav')).toBe('etc_passwd');
    expect(safeStem('..\\..\\x.wav')).toBe('x');
    expect(safeStem('....wav')).toBe('clip');
    expect(safeStem('ça va ? 😀.flac')).toBe('a_va_');
  });
});
