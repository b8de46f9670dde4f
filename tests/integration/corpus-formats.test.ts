/**
 * Corpus formats in and out (issue 14): Praat TextGrid, ELAN EAF and Label Studio JSON, on real
 * project files and real audio. Exports are read back by independent parsers written in Python here
 * (not by our importers), then imported again into a fresh project (round trip).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import type { ImportPathOptions } from '../../src/main/import/import-service';
import { main } from '../../src/main/cli/main';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { jobResult, type ExportRequest, type ImportPreview, type ImportReport } from '../../src/shared/contract';
import { AUDIO_FIXTURES, REPO_ROOT, openTempStudio, tempDir, writeTestWav } from '../helpers/fixtures';

const FORMATS = path.join(REPO_ROOT, 'tests', 'fixtures', 'formats');
const SPEECH = path.join(AUDIO_FIXTURES, 'speech.wav'); // 1.5 s, 16 kHz

const open: Studio[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const s of open.splice(0)) await s.close();
});

function studio(): Studio {
  const { studio: s } = openTempStudio();
  open.push(s);
  return s;
}

/** A folder holding a fixture (optionally transformed) and speech.wav under the names given. */
function staged(files: Record<string, string | Buffer>, audioNames: string[]): string {
  const dir = tempDir();
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data);
  for (const a of audioNames) fs.copyFileSync(SPEECH, path.join(dir, a));
  return dir;
}
const fixture = (name: string) => fs.readFileSync(path.join(FORMATS, name), 'utf8');

async function importInto(s: Studio, source: string, options: ImportPathOptions = {}): Promise<ImportReport> {
  const status = await s.jobs.wait(
    s.jobs.start('import', 'import', (ctx) => s.importer.importPath(source, ctx, options)),
  );
  expect(status.state, status.error ?? '').toBe('succeeded');
  return jobResult(status, 'import')!;
}

async function exportTo(s: Studio, format: ExportRequest['format']): Promise<string> {
  const folder = path.join(tempDir(), 'out');
  const status = await s.jobs.wait(
    s.jobs.start('export', 'export', (ctx) => s.exporter.export({ folder, format }, ctx)),
  );
  expect(status.state, status.error ?? '').toBe('succeeded');
  return folder;
}

/** Each utterance's stored (imported) split by transcript. */
function splits(s: Studio): Record<string, string | null> {
  const rows = s.store.db
    .prepare<[], { text: string; split: string | null }>('SELECT transcript AS text, split FROM utterances')
    .all();
  return Object.fromEntries(rows.map((r) => [r.text, r.split]));
}

/** Every utterance with its transcript, speaker and labels per annotator ("origin:annotator"). */
function snapshot(s: Studio) {
  const labels = new Map(s.store.labels.list().map((l) => [l.id, l.name]));
  const utterances = s.store.db
    .prepare<[], { id: number; start: number; end: number; transcript: string; speaker: string | null; file: string }>(
      `SELECT u.id, u.start_s AS start, u.end_s AS "end", u.transcript, u.speaker, r.file_name AS file
       FROM utterances u JOIN recordings r ON r.id = u.recording_id ORDER BY u.start_s, u.end_s`,
    )
    .all();
  const anns = s.store.db
    .prepare<[], { utteranceId: number; origin: string; annotator: string; labelId: number }>(
      `SELECT utterance_id AS utteranceId, origin, annotator, label_id AS labelId FROM annotations
       WHERE label_id IS NOT NULL ORDER BY annotator`,
    )
    .all();
  return utterances.map((u) => ({
    start: u.start,
    end: u.end,
    text: u.transcript,
    speaker: u.speaker,
    labels: anns
      .filter((a) => a.utteranceId === u.id && a.origin === 'human')
      .map((a) => `${a.annotator}=${labels.get(a.labelId)}`),
  }));
}

/** Two people label a three-utterance recording; one utterance overlaps another. */
async function labelledProject(): Promise<Studio> {
  const s = studio();
  const dir = tempDir();
  fs.copyFileSync(SPEECH, path.join(dir, 'talk.wav'));
  fs.writeFileSync(
    path.join(dir, 'manifest.csv'),
    [
      'path,start,end,text,speaker,label,annotator',
      'talk.wav,0.0625,0.5,"hello, ""world""",spk1,happy,alice',
      'talk.wav,0.0625,0.5,"hello, ""world""",spk1,sad,bob',
      'talk.wav,0.5,1.25,ça va,spk2,neutral,alice',
      'talk.wav,1,1.5,,spk1,angry,bob',
      'talk.wav,1.3125,1.5,no label,,,',
    ].join('\n'),
  );
  const report = await importInto(s, path.join(dir, 'manifest.csv'));
  expect(report.failures).toEqual([]);
  return s;
}

const python = (script: string, ...args: string[]) => {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as unknown;
};

/** An independent reader of Praat's long text format (line by line), not our importer. */
const PY_TEXTGRID = String.raw`
import json, re, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
assert lines[0] == 'File type = "ooTextFile"' and lines[1] == 'Object class = "TextGrid"'
def val(line):
    k, v = line.split('=', 1)
    v = v.strip()
    return v[1:-1].replace('""', '"') if v.startswith('"') else float(v)
grid = {'xmax': None, 'tiers': []}
tier = None
for i, line in enumerate(lines):
    s = line.strip()
    if s.startswith('xmax =') and grid['xmax'] is None: grid['xmax'] = val(s)
    elif s.startswith('name ='):
        tier = {'name': val(s), 'intervals': []}; grid['tiers'].append(tier)
    elif re.match(r'intervals \[\d+\]:', s):
        a, b, t = (val(lines[i + k].strip()) for k in (1, 2, 3))
        tier['intervals'].append([a, b, t])
for t in grid['tiers']:
    iv = t['intervals']
    assert iv[0][0] == 0 and abs(iv[-1][1] - grid['xmax']) < 1e-9, 'tier does not span the grid'
    assert all(abs(iv[k][1] - iv[k + 1][0]) < 1e-12 for k in range(len(iv) - 1)), 'gap or overlap'
print(json.dumps(grid))
`;

/**
 * A strict check of an EAF 3.0 file against the schema's rules, with Python's own XML parser:
 * root and attributes, children in the schema's order, unique ids, every reference resolving,
 * time slots in order with whole-ms values, alignable annotations on time-alignable types.
 */
const PY_EAF = String.raw`
import json, re, sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
XSI = '{http://www.w3.org/2001/XMLSchema-instance}'
assert root.tag == 'ANNOTATION_DOCUMENT'
for a in ('DATE', 'AUTHOR', 'FORMAT', 'VERSION'): assert a in root.attrib, a
assert root.attrib['FORMAT'] == '3.0'
assert root.attrib[XSI + 'noNamespaceSchemaLocation'].endswith('EAFv3.0.xsd')
assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$', root.attrib['DATE'])
order = ['HEADER', 'TIME_ORDER', 'TIER', 'LINGUISTIC_TYPE', 'LOCALE', 'LANGUAGE', 'CONSTRAINT', 'CONTROLLED_VOCABULARY', 'LEXICON_REF', 'EXTERNAL_REF']
tags = [c.tag for c in root]
assert all(t in order for t in tags), tags
assert [order.index(t) for t in tags] == sorted(order.index(t) for t in tags), 'children out of schema order'
assert tags.count('HEADER') == 1 and tags.count('TIME_ORDER') == 1
header = root.find('HEADER')
assert header.attrib.get('TIME_UNITS') == 'milliseconds' and 'MEDIA_FILE' in header.attrib
htags = [c.tag for c in header]
horder = ['MEDIA_DESCRIPTOR', 'LINKED_FILE_DESCRIPTOR', 'PROPERTY']
assert [horder.index(t) for t in htags] == sorted(horder.index(t) for t in htags)
for m in header.findall('MEDIA_DESCRIPTOR'): assert 'MEDIA_URL' in m.attrib and 'MIME_TYPE' in m.attrib
ncname = re.compile(r'^[A-Za-z_][\w.-]*$')
slots = {}
last = -1
for ts in root.find('TIME_ORDER'):
    assert ts.tag == 'TIME_SLOT'
    i = ts.attrib['TIME_SLOT_ID']; assert ncname.match(i) and i not in slots
    v = int(ts.attrib['TIME_VALUE']); assert v >= 0 and v >= last; last = v
    slots[i] = v
types = {lt.attrib['LINGUISTIC_TYPE_ID']: lt.attrib for lt in root.findall('LINGUISTIC_TYPE')}
stereotypes = {c.attrib['STEREOTYPE'] for c in root.findall('CONSTRAINT')}
assert stereotypes <= {'Time_Subdivision', 'Symbolic_Subdivision', 'Symbolic_Association', 'Included_In'}
ids = set(); tier_ids = set(); tiers = []
for tier in root.findall('TIER'):
    t = tier.attrib; assert t['TIER_ID'] not in tier_ids; tier_ids.add(t['TIER_ID'])
    assert t['LINGUISTIC_TYPE_REF'] in types
    assert set(t) <= {'TIER_ID', 'PARTICIPANT', 'ANNOTATOR', 'LINGUISTIC_TYPE_REF', 'DEFAULT_LOCALE', 'PARENT_REF', 'EXT_REF', 'LANG_REF'}
    out = {'id': t['TIER_ID'], 'annotator': t.get('ANNOTATOR'), 'annotations': []}
    for ann in tier:
        assert ann.tag == 'ANNOTATION' and len(ann) == 1
        al = ann[0]; assert al.tag == 'ALIGNABLE_ANNOTATION'
        assert types[t['LINGUISTIC_TYPE_REF']]['TIME_ALIGNABLE'] == 'true'
        a = al.attrib; assert ncname.match(a['ANNOTATION_ID']) and a['ANNOTATION_ID'] not in ids; ids.add(a['ANNOTATION_ID'])
        s1, s2 = slots[a['TIME_SLOT_REF1']], slots[a['TIME_SLOT_REF2']]; assert s1 < s2
        assert [c.tag for c in al] == ['ANNOTATION_VALUE']
        out['annotations'].append([s1, s2, al.find('ANNOTATION_VALUE').text or ''])
    tiers.append(out)
last_id = int(header.find("PROPERTY[@NAME='lastUsedAnnotationId']").text)
assert last_id == len(ids)
print(json.dumps({'tiers': tiers, 'media': [m.attrib for m in header.findall('MEDIA_DESCRIPTOR')]}))
`;

describe('Praat TextGrid', () => {
  it('imports the long format: transcript, label and speaker tiers by name, a point tier reported', async () => {
    const s = studio();
    const dir = staged({ 'long.TextGrid': fixture('long.TextGrid') }, ['long.wav']);
    const report = await importInto(s, path.join(dir, 'long.TextGrid'));
    expect(report.format).toBe('textgrid');
    expect(report.notes).toEqual([
      'long.TextGrid: tier "words" → transcript',
      'long.TextGrid: tier "emotion" → label',
      'long.TextGrid: tier "speaker" → speaker',
    ]);
    expect(report.failures).toEqual([
      { path: 'long.TextGrid', reason: 'tier "events" is a point tier: only interval tiers are imported' },
    ]);
    expect(snapshot(s)).toEqual([
      { start: 0.1, end: 0.6, text: 'she said "hello"', speaker: 'spk1', labels: [] },
      { start: 0.8, end: 1.5, text: 'ça va', speaker: 'spk1', labels: [] },
    ]);
    // A tier without an annotator gives the file's own (imported) label.
    const imported = s.store.annotations.get(s.store.rows()[0]!.id, 'import', 'long.TextGrid');
    expect(s.store.labels.byId(imported!.labelId!)!.name).toBe('happy');
  });

  const short = fixture('short.TextGrid');
  const utf16be = (text: string) => {
    const le = Buffer.from(text, 'utf16le');
    for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
    return Buffer.concat([Buffer.from([0xfe, 0xff]), le]);
  };
  const encodings: [string, Buffer][] = [
    ['UTF-8', Buffer.from(short)],
    [
      'UTF-8 with BOM and CRLF',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(short.replace(/\n/g, '\r\n'))]),
    ],
    [
      'UTF-16 LE with BOM',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(short.replace(/\n/g, '\r\n'), 'utf16le')]),
    ],
    ['UTF-16 BE with BOM', utf16be(short)],
  ];
  for (const [encoding, bytes] of encodings) {
    it(`imports the short format in ${encoding}; a tier named "category:alice" is alice's labels`, async () => {
      const s = studio();
      const dir = staged({ 'g.TextGrid': bytes }, ['g.wav']);
      const report = await importInto(s, path.join(dir, 'g.TextGrid'));
      expect(report.failures).toEqual([]);
      expect(snapshot(s)).toEqual([
        { start: 0.2, end: 1.1, text: 'good morning', speaker: null, labels: ['alice=neutral'] },
      ]);
    });
  }

  it('lists overlapping intervals with file and line, and imports the rest; --tier names the roles', async () => {
    const s = studio();
    const dir = staged({ 'o.TextGrid': fixture('overlapping.TextGrid') }, ['o.wav']);
    const report = await importInto(s, path.join(dir, 'o.TextGrid'));
    expect(report.failures).toEqual([
      { path: 'o.TextGrid:20', reason: 'tier "transcript": interval 0.5–1 s overlaps the one before (0–0.7 s)' },
    ]);
    expect(snapshot(s).map((u) => [u.start, u.end, u.text])).toEqual([
      [0, 0.7, 'first'],
      [1, 1.5, 'third'],
    ]);

    // With --tier only the named tiers are read: the emotion tier alone gives the segments.
    const t = studio();
    const r2 = await importInto(t, path.join(dir, 'o.TextGrid'), { tiers: { emotion: 'label' } });
    expect(r2.notes).toContain('o.TextGrid: tier "transcript" → ignored');
    expect(snapshot(t).map((u) => [u.start, u.end, u.text])).toEqual([[1, 1.5, '']]);
  });

  it('exports one TextGrid per recording that an independent parser reads, and imports back the same', async () => {
    const s = await labelledProject();
    const before = snapshot(s);
    const out = await exportTo(s, 'textgrid');
    expect(fs.readdirSync(out).sort()).toEqual(['provenance.json', 'talk.TextGrid', 'talk.wav']);
    const grid = python(PY_TEXTGRID, path.join(out, 'talk.TextGrid')) as {
      xmax: number;
      tiers: { name: string; intervals: [number, number, string][] }[];
    };
    expect(grid.xmax).toBe(1.5);
    const tier = (name: string) => grid.tiers.find((t) => t.name === name)!.intervals.filter((i) => i[2] !== '');
    expect(grid.tiers.map((t) => t.name)).toEqual([
      'transcript',
      'emotion:alice',
      'emotion:bob',
      'speaker',
      'transcript 2',
      'emotion 2:alice',
      'emotion 2:bob',
      'speaker 2',
    ]);
    expect(tier('transcript')).toEqual([
      [0.0625, 0.5, 'hello, "world"'],
      [0.5, 1.25, 'ça va'],
      [1.3125, 1.5, 'no label'],
    ]);
    expect(tier('emotion:bob')).toEqual([[0.0625, 0.5, 'sad']]);
    expect(tier('emotion 2:bob')).toEqual([[1, 1.5, 'angry']]);

    const back = studio();
    const report = await importInto(back, out);
    expect(report.failures).toEqual([]);
    expect(snapshot(back)).toEqual(before);
  });
});

describe('ELAN EAF', () => {
  it('imports tiers by name, interpolates an unaligned slot, follows references, finds media by relative URL', async () => {
    const s = studio();
    const dir = staged({ 'sample.eaf': fixture('sample.eaf') }, ['speech.wav']);
    const report = await importInto(s, path.join(dir, 'sample.eaf'));
    expect(report.format).toBe('eaf');
    expect(report.notes).toContain('sample.eaf: 1 unaligned time slot(s) interpolated between their neighbours');
    expect(report.notes).toContain('sample.eaf: tier "Emotion" → label');
    expect(report.failures).toEqual([
      { path: 'sample.eaf:33', reason: 'reference annotation a4: parent a99 not found' },
    ]);
    // ts2 lies between 100 and 900 ms, first of one unaligned slot: 500 ms.
    expect(snapshot(s)).toEqual([
      { start: 0.1, end: 0.5, text: 'good & ready', speaker: null, labels: ['bob=sad'] },
      { start: 1, end: 1.4, text: 'later', speaker: null, labels: [] },
    ]);
  });

  it('reports missing media and malformed XML with their lines, importing nothing from them', async () => {
    const s = studio();
    const dir = staged(
      {
        'missing.eaf': fixture('sample.eaf')
          .replace('./speech.wav', './nowhere.wav')
          .replace('/speech.wav', '/nowhere.wav'),
        'broken.eaf': '<?xml version="1.0"?>\n<ANNOTATION_DOCUMENT>\n  <HEADER>\n</ANNOTATION_DOCUMENT>\n',
      },
      [],
    );
    const report = await importInto(s, dir);
    expect(report.failures.map((f) => f.path)).toEqual(['broken.eaf:4', 'missing.eaf:33', 'missing.eaf:4']);
    expect(report.failures[0]!.reason).toMatch(/^not well-formed XML/);
    expect(report.failures[2]!.reason).toMatch(
      /^linked media not found: file:\/\/\/nonexistent\/elsewhere\/nowhere\.wav/,
    );
    expect(report.utterancesAdded).toBe(0);
  });

  it('exports EAF 3.0 that passes a strict schema check and imports back the same (ms boundaries)', async () => {
    const s = await labelledProject();
    const before = snapshot(s);
    const out = await exportTo(s, 'eaf');
    const doc = python(PY_EAF, path.join(out, 'talk.eaf')) as {
      tiers: { id: string; annotator: string | null; annotations: [number, number, string][] }[];
      media: Record<string, string>[];
    };
    expect(doc.tiers.map((t) => [t.id, t.annotator])).toEqual([
      ['transcript', null],
      ['emotion (alice)', 'alice'],
      ['emotion (bob)', 'bob'],
      ['speaker', null],
      ['transcript 2', null],
      ['emotion 2 (alice)', 'alice'],
      ['emotion 2 (bob)', 'bob'],
      ['speaker 2', null],
    ]);
    expect(doc.tiers[0]!.annotations).toEqual([
      [63, 500, 'hello, "world"'],
      [500, 1250, 'ça va'],
      [1313, 1500, 'no label'],
    ]);
    expect(doc.media[0]!.MEDIA_URL).toMatch(/^file:\/\/\/.*\/talk\.wav$/);

    const back = studio();
    const report = await importInto(back, out);
    expect(report.failures).toEqual([]);
    // EAF times are whole milliseconds: boundaries come back within half a millisecond.
    const after = snapshot(back);
    expect(after.map((u) => ({ ...u, start: 0, end: 0 }))).toEqual(before.map((u) => ({ ...u, start: 0, end: 0 })));
    after.forEach((u, i) => {
      expect(Math.abs(u.start - before[i]!.start)).toBeLessThanOrEqual(0.0005 + 1e-9);
      expect(Math.abs(u.end - before[i]!.end)).toBeLessThanOrEqual(0.0005 + 1e-9);
    });
  });
});

describe('Label Studio JSON', () => {
  it('imports annotations per user and predictions with their model version and score; bad tasks are listed', async () => {
    const s = studio();
    const dir = staged({ 'tasks.json': fixture('tasks.json') }, ['speech.wav']);
    const report = await importInto(s, path.join(dir, 'tasks.json'));
    expect(report.format).toBe('label-studio');
    expect(report.failures.map((f) => f.reason)).toEqual([
      'task 11 (annotation 1 by ann@example.org): region 0.9–0.8 s is not a time span',
      'task 11: duplicate task id, left out',
      'task 12: audio is a URL (https://example.org/audio/remote.wav) and no file of that name is beside tasks.json; not downloaded',
      'task 13: no audio in its data',
    ]);
    expect(snapshot(s)).toEqual([
      {
        start: 0.1,
        end: 0.7,
        text: 'hi there',
        speaker: null,
        labels: ['ann@example.org=happy', 'cy@example.org=neutral'],
      },
    ]);
    expect(report.predictionsAdded).toBe(1);
    const model = s.store.models.list().find((m) => m.name === 'Label Studio')!;
    expect(model.version).toBe('ser-v2');
    const p = s.store.models.prediction(s.store.rows()[0]!.id, model.id)!;
    expect([p.predictedLabel, p.confidence]).toEqual(['happy', 0.64]);
  });

  it('exports tasks with annotations and predictions, and imports back the same', async () => {
    const s = await labelledProject();
    const before = snapshot(s);
    const out = await exportTo(s, 'label-studio');
    const tasks = JSON.parse(fs.readFileSync(path.join(out, 'tasks.json'), 'utf8')) as {
      data: { audio: string };
      annotations: { created_username: string; completed_by: number }[];
    }[];
    expect(tasks).toHaveLength(1);
    expect(tasks[0]!.annotations.map((a) => a.created_username)).toEqual(['alice, 1', 'bob, 2']);
    // The audio is referenced by absolute path: import it from anywhere.
    const back = studio();
    const report = await importInto(back, path.join(out, 'tasks.json'));
    expect(report.failures).toEqual([]);
    expect(snapshot(back)).toEqual(before);
  });
});

describe('wavfusion import/export --format', () => {
  it('names the format and the tier roles on the command line', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const dir = staged({ 'o.txt': fixture('overlapping.TextGrid') }, ['o.wav']);
    const project = path.join(tempDir(), 'p.sqlite');
    const code = await main([
      'import',
      '--project',
      project,
      '--format',
      'textgrid',
      '--tier',
      'emotion=label',
      path.join(dir, 'o.txt'),
    ]);
    expect(code).toBe(0);
    expect(await main(['import', '--project', project, '--format', 'praat', dir])).toBe(2);
    const out = path.join(tempDir(), 'eaf');
    expect(await main(['export', '--project', project, '--out', out, '--format', 'eaf', '--include-imported'])).toBe(0);
    expect(fs.readdirSync(out).sort()).toEqual(['o.eaf', 'provenance.json']);
  });
});

/** Every utterance with its annotations: "annotator=label V/A/D note" (imported labels as "import:label"). */
function detailed(s: Studio) {
  const labels = new Map(s.store.labels.list().map((l) => [l.id, l.name]));
  const utterances = s.store.db
    .prepare<[], { id: number; start: number; end: number; transcript: string; speaker: string | null; file: string }>(
      `SELECT u.id, u.start_s AS start, u.end_s AS "end", u.transcript, u.speaker, r.file_name AS file
       FROM utterances u JOIN recordings r ON r.id = u.recording_id ORDER BY r.file_name, u.start_s`,
    )
    .all();
  const anns = s.store.db
    .prepare<
      [],
      {
        utteranceId: number;
        origin: string;
        annotator: string;
        labelId: number | null;
        valence: number | null;
        arousal: number | null;
        dominance: number | null;
        note: string;
      }
    >(
      `SELECT utterance_id AS utteranceId, origin, annotator, label_id AS labelId, valence, arousal, dominance, note
       FROM annotations ORDER BY origin, annotator`,
    )
    .all();
  return utterances.map((u) => ({
    file: u.file,
    start: u.start,
    end: u.end,
    text: u.transcript,
    speaker: u.speaker,
    annotations: anns
      .filter((a) => a.utteranceId === u.id)
      .map((a) =>
        [
          `${a.origin === 'import' ? 'import' : a.annotator}=${a.labelId === null ? '' : labels.get(a.labelId)}`,
          a.valence === null ? '' : `${a.valence}/${a.arousal}/${a.dominance}`,
          a.note,
        ]
          .filter(Boolean)
          .join(' '),
      ),
  }));
}

/** The IEMOCAP fixture session with real WAVs: the first dialog as one file, the second as sentence files. */
function iemocapRelease(transform: (text: string) => string = (t) => t): string {
  const root = path.join(tempDir(), 'IEMOCAP_full_release');
  fs.cpSync(path.join(FORMATS, 'iemocap'), root, { recursive: true });
  const dialog = path.join(root, 'Session1', 'dialog');
  for (const dir of ['EmoEvaluation', 'transcriptions'])
    for (const f of fs.readdirSync(path.join(dialog, dir))) {
      const file = path.join(dialog, dir, f);
      fs.writeFileSync(file, transform(fs.readFileSync(file, 'utf8')));
    }
  fs.mkdirSync(path.join(dialog, 'wav'));
  writeTestWav(path.join(dialog, 'wav', 'Ses01F_impro01.wav'), 25);
  const sentences = path.join(root, 'Session1', 'sentences', 'wav', 'Ses01M_script01_1');
  fs.mkdirSync(sentences, { recursive: true });
  writeTestWav(path.join(sentences, 'Ses01M_script01_1_F000.wav'), 1.5);
  writeTestWav(path.join(sentences, 'Ses01M_script01_1_M000.wav'), 1.5);
  return root;
}

const IEMOCAP_PROBLEMS = [
  {
    path: 'Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:27',
    reason: 'utterance Ses01F_impro01_F002 ends before it starts',
  },
  {
    path: 'Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:28',
    reason: 'an evaluation before any utterance line',
  },
  {
    path: 'Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:32',
    reason: 'Ses01F_impro01_F003: unknown category "Grumpiness"',
  },
  {
    path: 'Session1/dialog/EmoEvaluation/Ses01F_impro01.txt:33',
    reason: 'not an IEMOCAP evaluation line: "this line is not IEMOCAP"',
  },
];

describe('IEMOCAP release layout', () => {
  const expected = [
    {
      file: 'Ses01F_impro01.wav',
      start: 6.2901,
      end: 8.2357,
      text: 'Excuse me.',
      speaker: 'Ses01F',
      annotations: [
        'iemocap-E2=neutral',
        'iemocap-E3=neutral 3/2/2',
        'iemocap-E4=neutral 2/3/3',
        'iemocap-Ses01-F1=neutral 3/2/1',
        'import=neutral 2.5/2.5/2.5',
      ],
    },
    {
      file: 'Ses01F_impro01.wav',
      start: 10.01,
      end: 11.3925,
      text: 'Do you have your forms?',
      speaker: 'Ses01M',
      annotations: [
        'iemocap-E1=frustrated 2/4/4',
        'iemocap-E3=frustrated',
        'iemocap-Ses01-M1=angry',
        'import=frustrated 2/3.5/3.5',
      ],
    },
    {
      file: 'Ses01F_impro01.wav',
      start: 14.8872,
      end: 18.0758,
      text: 'Yeah.',
      speaker: 'Ses01F',
      annotations: ['iemocap-E2=excited', 'iemocap-E3=happy', 'iemocap-Ses01-F1=excited', 'import=excited 4/3.5/3'],
    },
    {
      file: 'Ses01F_impro01.wav',
      start: 19.2,
      end: 21.5,
      text: 'Let me see them.',
      speaker: 'Ses01M',
      annotations: ['iemocap-E1=surprised', 'iemocap-E2=other', 'import= 2.5/3/3'],
    },
    {
      file: 'Ses01F_impro01.wav',
      start: 23.1,
      end: 24,
      text: 'Is there a problem?',
      speaker: 'Ses01F',
      annotations: ['iemocap-E2=sad', 'import=sad 1/1.5/1.5'],
    },
    {
      file: 'Ses01M_script01_1_F000.wav',
      start: 0,
      end: 1.5,
      text: 'What a lovely day.',
      speaker: 'Ses01F',
      annotations: ['iemocap-E1=happy', 'iemocap-E2=happy', 'import=happy 4.5/3/3'],
    },
    {
      file: 'Ses01M_script01_1_M000.wav',
      start: 0,
      end: 1.5,
      text: 'I miss her.',
      speaker: 'Ses01M',
      annotations: ['iemocap-E1=sad', 'iemocap-E2=neutral', 'import=sad 1.5/2/2'],
    },
  ];

  it('imports a session: dialog segments and sentence wavs, transcripts, consensus with V/A/D, each evaluator on the roster', async () => {
    const s = studio();
    const root = iemocapRelease();
    const report = await importInto(s, root);
    expect(report.format).toBe('iemocap');
    expect(report.failures).toEqual(IEMOCAP_PROBLEMS);
    expect(report.notes).toContain(
      'IEMOCAP categories (all 10): neu→neutral, hap→happy, exc→excited, ang→angry, sad→sad, fru→frustrated, sur→surprised, fea→fearful, dis→disgusted, oth→other; xxx (no agreement): no consensus label',
    );
    expect(report.notes).toContain('IEMOCAP: 1 evaluation(s) named several categories: the first is kept');
    expect(detailed(s)).toEqual(expected);
    expect(s.agreement.listAnnotators().map((r) => r.name)).toEqual(
      expect.arrayContaining(['iemocap-E1', 'iemocap-E2', 'iemocap-E3', 'iemocap-E4', 'iemocap-Ses01-F1']),
    );
  });

  it('tolerates CRLF and odd spacing, and reads one EmoEvaluation file alone', async () => {
    const s = studio();
    const root = iemocapRelease((t) => t.replace(/\n/g, '\r\n').replace(/\t/g, ' \t  '));
    const report = await importInto(s, root);
    expect(report.failures).toEqual(IEMOCAP_PROBLEMS);
    expect(detailed(s)).toEqual(expected);

    const one = studio();
    const file = path.join(root, 'Session1', 'dialog', 'EmoEvaluation', 'Ses01M_script01_1.txt');
    const r2 = await importInto(one, file);
    expect(r2.format).toBe('iemocap');
    expect(detailed(one)).toEqual(expected.slice(5));
  });

  it('maps to 4 classes: drop leaves other categories out, keep keeps them; the CLI says so before importing', async () => {
    const s = studio();
    const root = iemocapRelease();
    const report = await importInto(s, root, { format: 'iemocap', fourClass: 'drop' });
    expect(report.notes).toContain(
      'IEMOCAP 4-class mapping: neu→neutral, hap→happy, exc→happy, ang→angry, sad→sad; fru, sur, fea, dis, oth, xxx left out (2 utterance(s))',
    );
    const dropped = detailed(s);
    expect(dropped.map((u) => u.text)).toEqual([
      'Excuse me.',
      'Yeah.',
      'Is there a problem?',
      'What a lovely day.',
      'I miss her.',
    ]);
    expect(dropped[1]!.annotations).toEqual([
      'iemocap-E2=happy',
      'iemocap-E3=happy',
      'iemocap-Ses01-F1=happy',
      'import=happy 4/3.5/3',
    ]);
    expect(s.store.labels.list().map((l) => l.name)).toEqual(['neutral', 'happy', 'angry', 'sad']);

    const k = studio();
    await importInto(k, root, { fourClass: 'keep' });
    const kept = detailed(k);
    expect(kept).toHaveLength(7);
    expect(kept[1]!.annotations).toEqual(expected[1]!.annotations);
    expect(kept[2]!.annotations).toEqual(dropped[1]!.annotations);

    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((c) => (lines.push(`err ${String(c)}`), true));
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => (lines.push(`out ${String(c)}`), true));
    const project = path.join(tempDir(), 'p.sqlite');
    expect(await main(['import', '--project', project, '--four-class', 'drop', root])).toBe(3);
    const mapping = lines.findIndex((l) => l.includes('wavfusion: IEMOCAP 4-class mapping: neu→neutral'));
    expect(mapping).toBeGreaterThanOrEqual(0);
    expect(lines[mapping]).toContain('wavfusion: iemocap: 3 audio file(s), 5 utterance(s), 4 unusable row(s)');
    expect(mapping).toBeLessThan(lines.findIndex((l) => l.startsWith('out ')));
    expect(await main(['import', '--project', project, '--four-class', 'some', root])).toBe(2);
  });
});

describe('MELD CSV', () => {
  function meldRelease(): string {
    const root = path.join(tempDir(), 'MELD.Raw');
    fs.cpSync(path.join(FORMATS, 'meld'), root, { recursive: true });
    const train = path.join(root, 'train', 'train_splits');
    const dev = path.join(root, 'dev', 'dev_splits_complete');
    fs.mkdirSync(train, { recursive: true });
    fs.mkdirSync(dev, { recursive: true });
    for (const clip of ['dia0_utt0', 'dia0_utt1', 'dia0_utt2', 'dia1_utt0'])
      writeTestWav(path.join(train, `${clip}.wav`), 1.5);
    // Dialogue ids restart in every split: dev's dia0_utt0 is another clip.
    writeTestWav(path.join(dev, 'dia0_utt0.wav'), 1);
    return root;
  }

  it('imports the CSVs with their clips per split, decodes mojibake and cp1252, lists bad rows, stores the splits', async () => {
    const s = studio();
    const root = meldRelease();
    const report = await importInto(s, root);
    expect(report.format).toBe('meld');
    expect(report.failures).toEqual([
      {
        path: 'train_sent_emo.csv:7',
        reason: `no audio dia1_utt1.wav or .mp4 in a train folder under ${root}`,
      },
      { path: 'train_sent_emo.csv:8', reason: 'dia1_utt0 appears twice, left out' },
      { path: 'train_sent_emo.csv:9', reason: 'Dialogue_ID/Utterance_ID "x"/"" are not numbers' },
    ]);
    expect(report.notes).toContain(
      'MELD splits stored with the utterances (dev as validation; an export can keep them): dev 1, train 4',
    );
    // Each utterance keeps its CSV's split (dev is our validation).
    expect(splits(s)).toEqual({
      'also I was the point person on my company’s transition from the KL-5 to GR-6 system.': 'train',
      'You must’ve had your hands full.': 'train',
      'That I did. That I did.': 'train',
      'Whoa, whoa, "wait"\r\nright there!': 'train',
      'He’s at the café, again.': 'validation',
    });
    expect(report.notes).toContain('MELD: 2 CSV file(s) held cp1252 bytes or mojibake (â€™): decoded');
    const rows = detailed(s).map((u) => [u.file, u.end, u.text, u.speaker, u.annotations]);
    expect(rows).toEqual([
      ['dia0_utt0.wav', 1, 'He’s at the café, again.', 'Phoebe', ['import=anger sentiment: negative']],
      [
        'dia0_utt0.wav',
        1.5,
        'also I was the point person on my company’s transition from the KL-5 to GR-6 system.',
        'Chandler',
        ['import=neutral sentiment: neutral'],
      ],
      [
        'dia0_utt1.wav',
        1.5,
        'You must’ve had your hands full.',
        'The Interviewer',
        ['import=neutral sentiment: neutral'],
      ],
      ['dia0_utt2.wav', 1.5, 'That I did. That I did.', 'Chandler', ['import=joy sentiment: positive']],
      ['dia1_utt0.wav', 1.5, 'Whoa, whoa, "wait"\r\nright there!', 'Joey', ['import=surprise sentiment: positive']],
    ]);
  });

  it('reads one CSV with its clips beside it or in --media DIR', async () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(FORMATS, 'meld', 'dev_sent_emo.csv'), path.join(dir, 'dev_sent_emo.csv'));
    const media = tempDir();
    writeTestWav(path.join(media, 'dia0_utt0.wav'), 1);
    const s = studio();
    const missing = await importInto(s, path.join(dir, 'dev_sent_emo.csv'));
    expect(missing.failures.map((f) => f.path)).toEqual(['dev_sent_emo.csv:2']);
    const report = await importInto(s, path.join(dir, 'dev_sent_emo.csv'), { media });
    expect(report.failures).toEqual([]);
    expect(report.utterancesAdded).toBe(1);
  });
});

describe('audiofolder', () => {
  it('round trip: export → import gives the same utterances, labels, V/A/D, notes and annotators', async () => {
    const s = await labelledProject();
    const first = s.store.rows()[0]!.id;
    s.annotations.setAnnotator('alice');
    s.annotations.setDimensions(first, { valence: 4, arousal: 2, dominance: 3, note: 'laughs, then "sighs"' });
    const out = await exportTo(s, 'audiofolder');
    const back = studio();
    const report = await importInto(back, out);
    expect(report.format).toBe('audiofolder');
    expect(report.failures).toEqual([]);
    expect(report.notes!.some((n) => n.startsWith('audiofolder splits stored with the utterances'))).toBe(true);
    // The splits come back as exported (the export's own seeded split, stored on import).
    const exportedSplits = new Map<string, string>();
    for (const split of ['train', 'validation', 'test'])
      if (fs.existsSync(path.join(out, split, 'metadata.csv')))
        for (const line of fs
          .readFileSync(path.join(out, split, 'metadata.csv'), 'utf8')
          .split('\n')
          .slice(1))
          if (line.trim()) exportedSplits.set(line.split(',')[0]!, split);
    const backSplits = back.store.db
      .prepare<[], { file: string; split: string }>(
        'SELECT r.file_name AS file, u.split FROM utterances u JOIN recordings r ON r.id = u.recording_id',
      )
      .all();
    expect(backSplits.length).toBeGreaterThan(0);
    for (const row of backSplits) expect(row.split).toBe(exportedSplits.get(row.file));
    // Each clip comes back whole (a recording of its own), with everything the annotator entered. The
    // audiofolder export writes one row per utterance (the latest person's label; the others only as
    // votes), so that annotation is what comes back.
    const exported = new Map(
      s.store.annotations.exportable(false).map((a) => [s.store.utterances.byId(a.utteranceId)!.transcript, a]),
    );
    const key = (u: { text: string; speaker: string | null; annotations: string[] }) =>
      JSON.stringify([u.text, u.speaker, u.annotations]);
    const before = detailed(s)
      .filter((u) => exported.has(u.text))
      .map((u) => ({
        ...u,
        annotations: u.annotations.filter((a) => a.startsWith(`${exported.get(u.text)!.annotator}=`)),
        duration: u.end - u.start,
      }));
    const after = detailed(back).map((u) => ({ ...u, duration: u.end - u.start }));
    expect(after.map(key).sort()).toEqual(before.map(key).sort());
    for (const u of after) {
      const b = before.find((x) => key(x) === key(u))!;
      expect(Math.abs(u.duration - b.duration)).toBeLessThan(1 / 16000 + 1e-9);
    }
    expect(after.find((u) => u.text === 'hello, "world"')!.annotations).toEqual([
      'alice=happy 4/2/3 laughs, then "sighs"',
    ]);
    expect(after.find((u) => u.text === '')!.annotations).toEqual(['bob=angry']);
    // When each was made comes back too.
    const times = (t: Studio) =>
      t.store.db
        .prepare<[], { at: string }>(`SELECT updated_at AS at FROM annotations ORDER BY updated_at`)
        .all()
        .map((r) => r.at);
    expect(times(back)).toEqual([...exported.values()].map((a) => a.updatedAt).sort());
    expect(
      back.agreement
        .listAnnotators()
        .map((r) => r.name)
        .sort(),
    ).toEqual(['alice', 'bob']);
  });

  it('reads a foreign audiofolder: labels without annotator are the dataset’s, bad rows listed', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'train'));
    writeTestWav(path.join(dir, 'train', 'a.wav'), 1);
    fs.writeFileSync(
      path.join(dir, 'train', 'metadata.csv'),
      '\uFEFFfile_name,label,text\r\na.wav,happy,"hi, there"\r\nb.wav,sad,gone\r\n',
    );
    fs.writeFileSync(path.join(dir, 'metadata.csv'), 'file_name,label,valence\r\ntrain/a.wav,sad,9\r\n');
    const s = studio();
    const report = await importInto(s, dir);
    expect(report.failures).toEqual([
      { path: 'metadata.csv:2', reason: 'valence "9" is not a number from 1 to 5' },
      { path: 'train/metadata.csv:3', reason: 'audio not found: b.wav' },
    ]);
    expect(detailed(s).map((u) => [u.text, u.annotations])).toEqual([['hi, there', ['import=happy']]]);
  });
});

describe('imported splits', () => {
  it('an export keeps the imported split when asked (MELD dev → validation), splits the rest by speaker, says so', async () => {
    const root = path.join(tempDir(), 'MELD.Raw');
    fs.cpSync(path.join(FORMATS, 'meld'), root, { recursive: true });
    for (const [dir, clips] of [
      [path.join(root, 'train', 'train_splits'), ['dia0_utt0', 'dia0_utt1', 'dia0_utt2', 'dia1_utt0']],
      [path.join(root, 'dev', 'dev_splits_complete'), ['dia0_utt0']],
    ] as const) {
      fs.mkdirSync(dir, { recursive: true });
      for (const clip of clips) writeTestWav(path.join(dir, `${clip}.wav`), 1);
    }
    const s = studio();
    await importInto(s, root);
    // One more utterance with no imported split (a plain folder import).
    const plain = tempDir();
    writeTestWav(path.join(plain, 'extra.wav'), 1);
    fs.writeFileSync(
      path.join(plain, 'extra.csv'),
      `path,text,speaker,label\n${path.join(plain, 'extra.wav')},extra one,Monica,neutral\n`,
    );
    await importInto(s, path.join(plain, 'extra.csv'));
    expect(Object.values(splits(s)).filter((v) => v === null)).toHaveLength(1);
    // A split segment's second half keeps the imported split (so does the first, the same row).
    const dev = s.store.db
      .prepare<[], { id: number; start: number; end: number }>(
        `SELECT id, start_s AS start, end_s AS "end" FROM utterances WHERE split = 'validation'`,
      )
      .get()!;
    const halves = s.segments.split(dev.id, (dev.start + dev.end) / 2);
    const halfSplits = s.store.db
      .prepare<[], { split: string | null }>(
        `SELECT split FROM utterances WHERE id IN (${halves.utteranceIds.join(', ')}) AND removed_at IS NULL`,
      )
      .all();
    expect(halfSplits).toEqual([{ split: 'validation' }, { split: 'validation' }]);
    s.segments.undo();

    const exportWith = async (keepImportedSplit: boolean) => {
      const folder = path.join(tempDir(), 'out');
      const status = await s.jobs.wait(
        s.jobs.start('export', 'export', (ctx) =>
          s.exporter.export({ folder, format: 'jsonl', includeImported: true, keepImportedSplit }, ctx),
        ),
      );
      expect(status.state, status.error ?? '').toBe('succeeded');
      const rows = fs
        .readFileSync(path.join(folder, 'dataset.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { text: string; split: string });
      const provenance = JSON.parse(fs.readFileSync(path.join(folder, 'provenance.json'), 'utf8')) as {
        split: { keptFromImport: number };
      };
      return { summary: jobResult(status, 'export')!, rows, provenance };
    };
    const kept = await exportWith(true);
    const stored = splits(s);
    for (const row of kept.rows) if (stored[row.text]) expect(row.split, row.text).toBe(stored[row.text]);
    expect(kept.summary.bySplit).toMatchObject({ validation: expect.any(Number) });
    expect(kept.rows.filter((r) => r.split === 'validation').map((r) => r.text)).toContain('He’s at the café, again.');
    expect(kept.provenance.split.keptFromImport).toBe(5);
    expect(kept.summary.warnings).toContain(
      '1 of 6 exported utterance(s) had no imported split: split by speaker with seed 13 instead',
    );
    // Off by default: the seeded split decides, and no utterance is said to keep its import's split.
    const resplit = await exportWith(false);
    expect(resplit.provenance.split.keptFromImport).toBe(0);
    expect(resplit.summary.warnings.join('\n')).not.toContain('imported split');

    // The command line's flag.
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const out = path.join(tempDir(), 'cli');
    await s.close();
    open.splice(open.indexOf(s), 1);
    expect(
      await main([
        'export',
        '--project',
        s.store.file,
        '--out',
        out,
        '--format',
        'jsonl',
        '--include-imported',
        '--keep-imported-split',
      ]),
    ).toBe(0);
    const cliRows = fs
      .readFileSync(path.join(out, 'dataset.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { text: string; split: string });
    for (const row of cliRows) if (stored[row.text]) expect(row.split).toBe(stored[row.text]);
  });
});

describe('imported splits from our own manifests', () => {
  for (const format of ['csv', 'jsonl'] as const) {
    it(`a ${format} export imports back with the split of each row (its split column)`, async () => {
      const s = await labelledProject();
      const out = await exportTo(s, format);
      const manifest = path.join(out, format === 'csv' ? 'dataset.csv' : 'dataset.jsonl');
      const back = studio();
      await importInto(back, manifest);
      const key = (file: string, start: number, end: number) =>
        `${file}@${Math.round(start * 1e4) / 1e4}-${Math.round(end * 1e4) / 1e4}`;
      const bySpan = (t: Studio) =>
        t.store.db
          .prepare<[], { file: string; start: number; end: number; split: string | null }>(
            `SELECT r.file_name AS file, u.start_s AS start, u.end_s AS "end", u.split
             FROM utterances u JOIN recordings r ON r.id = u.recording_id`,
          )
          .all()
          .map((r) => ({ key: key(r.file, r.start, r.end), split: r.split }));
      // What the export wrote per row, read from the file itself.
      const text = fs.readFileSync(manifest, 'utf8');
      const rows: Record<string, string | number>[] =
        format === 'jsonl'
          ? text
              .trim()
              .split('\n')
              .map((l) => JSON.parse(l) as Record<string, string | number>)
          : (parseCsv(text, { columns: true }) as Record<string, string>[]);
      const written = new Map(
        rows.map((r) => [key(path.basename(String(r.path)), Number(r.start), Number(r.end)), String(r.split)]),
      );
      const stored = bySpan(back);
      expect(stored.length).toBe(written.size);
      expect(stored.every((r) => r.split !== null)).toBe(true);
      for (const r of stored) expect(r.split, r.key).toBe(written.get(r.key));
    });
  }
});

describe('the import options through the contract (the Import dialog)', () => {
  const call = <T>(s: Studio, op: string, input: unknown) =>
    invokeOperation(createHandlers(s), op as never, input) as Promise<T>;
  async function started(s: Studio, input: unknown): Promise<ImportReport> {
    const { jobId } = await call<{ jobId: string }>(s, 'startImport', input);
    const status = await s.jobs.wait(jobId);
    expect(status.state, status.error ?? '').toBe('succeeded');
    return jobResult(status, 'import')!;
  }

  it('previews a TextGrid with its tiers and their roles, then imports with the roles chosen', async () => {
    const s = studio();
    const dir = staged({ 'o.TextGrid': fixture('overlapping.TextGrid') }, ['o.wav']);
    const file = path.join(dir, 'o.TextGrid');
    const preview = await call<ImportPreview>(s, 'previewImport', { path: file });
    expect(preview.format).toBe('textgrid');
    expect(preview.tiers).toEqual([
      { name: 'transcript', role: 'transcript' },
      { name: 'emotion', role: 'label' },
    ]);
    expect(preview.lines[0]).toBe('textgrid: 1 audio file(s), 2 utterance(s), 1 unusable row(s)');
    // Nothing was written by the preview.
    expect(s.store.rows()).toEqual([]);
    const chosen = await call<ImportPreview>(s, 'previewImport', { path: file, tiers: { emotion: 'label' } });
    expect(chosen.tiers).toEqual([
      { name: 'transcript', role: null },
      { name: 'emotion', role: 'label' },
    ]);
    const report = await started(s, { path: file, format: 'textgrid', tiers: { emotion: 'label' } });
    expect(report.notes).toContain('o.TextGrid: tier "transcript" → ignored');
    expect(snapshot(s).map((u) => [u.start, u.end, u.text])).toEqual([[1, 1.5, '']]);
  });

  it("says a plain folder is one, refuses a missing path, and passes IEMOCAP's 4-class choice and MELD's media folder", async () => {
    const s = studio();
    const plain = tempDir();
    fs.copyFileSync(SPEECH, path.join(plain, 'a.wav'));
    const folder = await call<ImportPreview>(s, 'previewImport', { path: plain });
    expect(folder).toMatchObject({ format: null, tiers: [] });
    expect(folder.lines[0]).toMatch(/^A folder of audio files/);
    await expect(call(s, 'previewImport', { path: path.join(plain, 'nope') })).rejects.toThrow(/no such file/);

    const root = iemocapRelease();
    const iemocap = await call<ImportPreview>(s, 'previewImport', { path: root, fourClass: 'drop' });
    expect(iemocap.format).toBe('iemocap');
    expect(iemocap.lines).toContain(
      'IEMOCAP 4-class mapping: neu→neutral, hap→happy, exc→happy, ang→angry, sad→sad; fru, sur, fea, dis, oth, xxx left out (2 utterance(s))',
    );
    await started(s, { path: root, fourClass: 'drop' });
    expect(s.store.labels.list().map((l) => l.name)).toEqual(['neutral', 'happy', 'angry', 'sad']);

    const dir = tempDir();
    fs.copyFileSync(path.join(FORMATS, 'meld', 'dev_sent_emo.csv'), path.join(dir, 'dev_sent_emo.csv'));
    const media = tempDir();
    writeTestWav(path.join(media, 'dia0_utt0.wav'), 1);
    const t = studio();
    const meld = await started(t, { path: path.join(dir, 'dev_sent_emo.csv'), format: 'meld', media });
    expect(meld.failures).toEqual([]);
    expect(meld.utterancesAdded).toBe(1);
  });

  it('refuses options the contract does not know, before anything runs', async () => {
    const s = studio();
    const file = path.join(tempDir(), 'x.TextGrid');
    await expect(call(s, 'startImport', { path: file, fourClass: 'some' })).rejects.toThrow(/fourClass/);
    await expect(call(s, 'startImport', { path: file, tiers: { words: 'gloss' } })).rejects.toThrow(/tiers/);
    await expect(call(s, 'previewImport', { path: file, format: 'praat' })).rejects.toThrow(/format/);
    await expect(call(s, 'startImport', { path: file, media: '' })).rejects.toThrow(/media/);
    expect(s.jobs.list()).toEqual([]);
  });
});

describe('ratings, notes, unsure flags and times in TextGrid, EAF and Label Studio (issue 10, item 2)', () => {
  /** labelledProject, plus alice's and bob's ratings, notes and flags, each annotation at its own time. */
  async function ratedProject(): Promise<Studio> {
    const s = await labelledProject();
    const id = (text: string, start: number) =>
      s.store.rows().find((r) => r.transcript === text && Math.abs(r.start - start) < 1e-9)!.id;
    s.annotations.setAnnotator('alice');
    s.annotations.setDimensions(id('hello, "world"', 0.0625), {
      valence: 4,
      arousal: 2,
      dominance: 3,
      note: 'laughs, then "sighs"',
    });
    s.annotations.setDimensions(id('ça va', 0.5), { valence: 1, arousal: null, dominance: null, note: '' });
    s.annotations.setUnsure(id('ça va', 0.5), true);
    s.annotations.setAnnotator('bob');
    s.annotations.setDimensions(id('hello, "world"', 0.0625), { valence: 2, arousal: 5, dominance: 1, note: '' });
    // Bob rates an utterance he did not label, and notes one in the overlapping layer.
    s.annotations.setDimensions(id('no label', 1.3125), { valence: 3, arousal: 3, dominance: 3, note: 'rated only' });
    s.annotations.setDimensions(id('', 1), { valence: null, arousal: 4, dominance: null, note: 'shouts\nloudly' });
    // Each annotation at its own time (to the millisecond), so the times that come back can be told apart.
    s.store.db
      .prepare(
        `UPDATE annotations SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', '2024-03-01T10:00:00', '+' || (rowid * 61) || ' seconds')`,
      )
      .run();
    return s;
  }

  /** Each utterance with every person's label, ratings, note, flag and time. */
  function entered(s: Studio) {
    const labels = new Map(s.store.labels.list().map((l) => [l.id, l.name]));
    return s.store.db
      .prepare<
        [],
        {
          start: number;
          end: number;
          text: string;
          annotator: string;
          labelId: number | null;
          valence: number | null;
          arousal: number | null;
          dominance: number | null;
          note: string;
          unsure: number;
          at: string;
        }
      >(
        `SELECT u.start_s AS start, u.end_s AS "end", u.transcript AS text, a.annotator, a.label_id AS labelId,
                a.valence, a.arousal, a.dominance, a.note, a.unsure, a.updated_at AS at
         FROM annotations a JOIN utterances u ON u.id = a.utterance_id
         WHERE a.origin = 'human' ORDER BY u.start_s, u.end_s, a.annotator`,
      )
      .all()
      .map((r) => ({ ...r, label: r.labelId === null ? null : labels.get(r.labelId)!, labelId: undefined }));
  }

  it('TextGrid: valence/arousal/dominance/note/unsure/annotated_at tiers per annotator, read back the same', async () => {
    const s = await ratedProject();
    const before = entered(s);
    expect(before).toHaveLength(5);
    const out = await exportTo(s, 'textgrid');
    const grid = python(PY_TEXTGRID, path.join(out, 'talk.TextGrid')) as {
      tiers: { name: string; intervals: [number, number, string][] }[];
    };
    const tier = (name: string) => grid.tiers.find((t) => t.name === name)!.intervals.filter((i) => i[2] !== '');
    expect(grid.tiers.map((t) => t.name)).toEqual([
      'transcript',
      'emotion:alice',
      'valence:alice',
      'arousal:alice',
      'dominance:alice',
      'note:alice',
      'unsure:alice',
      'annotated_at:alice',
      'emotion:bob',
      'valence:bob',
      'arousal:bob',
      'dominance:bob',
      'note:bob',
      'annotated_at:bob',
      'speaker',
      'transcript 2',
      'emotion 2:alice',
      'valence 2:alice',
      'arousal 2:alice',
      'dominance 2:alice',
      'note 2:alice',
      'unsure 2:alice',
      'annotated_at 2:alice',
      'emotion 2:bob',
      'valence 2:bob',
      'arousal 2:bob',
      'dominance 2:bob',
      'note 2:bob',
      'annotated_at 2:bob',
      'speaker 2',
    ]);
    expect(tier('valence:alice')).toEqual([
      [0.0625, 0.5, '4'],
      [0.5, 1.25, '1'],
    ]);
    expect(tier('note:alice')).toEqual([[0.0625, 0.5, 'laughs, then "sighs"']]);
    expect(tier('unsure:alice')).toEqual([[0.5, 1.25, 'unsure']]);
    expect(tier('valence:bob')).toEqual([
      [0.0625, 0.5, '2'],
      [1.3125, 1.5, '3'],
    ]);
    // A note over two lines is one string across two lines (as Praat writes it): the line-based reader
    // above does not follow it (only its span is checked here); our importer below reads it whole.
    expect(tier('note 2:bob').map((i) => [i[0], i[1]])).toEqual([[1, 1.5]]);
    expect(tier('annotated_at:bob').map((i) => i[2])).toEqual(
      before.filter((a) => a.annotator === 'bob' && a.start !== 1).map((a) => a.at),
    );

    const back = studio();
    const report = await importInto(back, out);
    expect(report.failures).toEqual([]);
    expect(report.notes).toContain('talk.TextGrid: tier "valence:alice" → valence');
    expect(report.notes).toContain('talk.TextGrid: tier "annotated_at 2:bob" → annotated_at');
    expect(entered(back)).toEqual(before);
  });

  it('TextGrid: a rating outside 1–5, a word for a rating, a bad flag or time is reported with its line; the rest imports', async () => {
    const s = await ratedProject();
    const out = await exportTo(s, 'textgrid');
    const file = path.join(out, 'talk.TextGrid');
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const valueLine = (tierName: string, value: string) => {
      const from = lines.findIndex((l) => l.includes(`name = "${tierName}"`));
      return from + lines.slice(from).findIndex((l) => l.trim() === `text = "${value}"`);
    };
    const bad = [
      ['valence:alice', '4', '7'],
      ['unsure:alice', 'unsure', 'maybe'],
      ['arousal:bob', '5', 'high'],
      ['annotated_at 2:bob', before(s), 'yesterday'],
    ] as const;
    const where: number[] = [];
    for (const [tierName, from, to] of bad) {
      const i = valueLine(tierName, from);
      where.push(i - 1); // the interval's xmin line (lines count from 1)
      lines[i] = lines[i]!.replace(`"${from}"`, `"${to}"`);
    }
    fs.writeFileSync(file, lines.join('\n'));
    const back = studio();
    const report = await importInto(back, out);
    expect(report.failures).toEqual([
      { path: `talk.TextGrid:${where[0]}`, reason: 'tier "valence:alice": valence "7" is not a number from 1 to 5' },
      {
        path: `talk.TextGrid:${where[1]}`,
        reason: 'tier "unsure:alice": unsure "maybe" is not unsure/true/yes/1 or false/no/0',
      },
      { path: `talk.TextGrid:${where[2]}`, reason: 'tier "arousal:bob": arousal "high" is not a number from 1 to 5' },
      {
        path: `talk.TextGrid:${where[3]}`,
        reason: 'tier "annotated_at 2:bob": annotated_at "yesterday" is not a date and time (ISO 8601)',
      },
    ]);
    const after = entered(back);
    expect(after).toHaveLength(5);
    const hello = after.filter((a) => a.text === 'hello, "world"');
    expect(hello.map((a) => [a.annotator, a.label, a.valence, a.arousal, a.dominance])).toEqual([
      ['alice', 'happy', null, 2, 3],
      ['bob', 'sad', 2, null, 1],
    ]);
    expect(after.find((a) => a.text === 'ça va')!.unsure).toBe(0);
    /** The time bob's annotation in the overlapping layer was given (what the test breaks). */
    function before(t: Studio) {
      return entered(t).find((a) => a.annotator === 'bob' && a.start === 1)!.at;
    }
  });

  it('EAF: the same tiers, time-aligned with ANNOTATOR set, pass the strict check and read back the same', async () => {
    const s = await ratedProject();
    const before = entered(s);
    const out = await exportTo(s, 'eaf');
    const doc = python(PY_EAF, path.join(out, 'talk.eaf')) as {
      tiers: { id: string; annotator: string | null; annotations: [number, number, string][] }[];
    };
    expect(
      doc.tiers.filter((t) => t.id.startsWith('valence') || t.id.startsWith('note')).map((t) => [t.id, t.annotator]),
    ).toEqual([
      ['valence (alice)', 'alice'],
      ['note (alice)', 'alice'],
      ['valence (bob)', 'bob'],
      ['note (bob)', 'bob'],
      ['valence 2 (alice)', 'alice'],
      ['note 2 (alice)', 'alice'],
      ['valence 2 (bob)', 'bob'],
      ['note 2 (bob)', 'bob'],
    ]);
    expect(doc.tiers.find((t) => t.id === 'dominance (bob)')!.annotations).toEqual([
      [63, 500, '1'],
      [1313, 1500, '3'],
    ]);
    expect(doc.tiers.find((t) => t.id === 'unsure (alice)')!.annotations).toEqual([[500, 1250, 'unsure']]);
    const back = studio();
    const report = await importInto(back, out);
    expect(report.failures).toEqual([]);
    const after = entered(back);
    // Whole milliseconds: boundaries within half a millisecond, everything else the same.
    expect(after.map((a) => ({ ...a, start: 0, end: 0 }))).toEqual(before.map((a) => ({ ...a, start: 0, end: 0 })));
    after.forEach((a, i) => expect(Math.abs(a.start - before[i]!.start)).toBeLessThanOrEqual(0.0005 + 1e-9));
  });

  it('Label Studio: ratings, note and flag as per-region results, <Rating> tags on 1–5, times per annotation; read back', async () => {
    const s = await ratedProject();
    const before = entered(s);
    const out = await exportTo(s, 'label-studio');
    const config = fs.readFileSync(path.join(out, 'label-config.xml'), 'utf8');
    for (const dim of ['valence', 'arousal', 'dominance'])
      expect(config).toContain(`<Rating name="${dim}" toName="audio" maxRating="5" perRegion="true"/>`);
    expect(config).toContain('<TextArea name="note" toName="audio" perRegion="true" editable="true"/>');
    const tasks = JSON.parse(fs.readFileSync(path.join(out, 'tasks.json'), 'utf8')) as {
      annotations: {
        created_username: string;
        created_at: string;
        updated_at: string;
        result: { id: string; from_name: string; type: string; value: Record<string, unknown> }[];
      }[];
    }[];
    const [alice, bob] = tasks[0]!.annotations;
    const results = (a: typeof alice, from: string) =>
      a!.result
        .filter((r) => r.from_name === from)
        .map((r) => [r.value.start, r.type, r.value.rating ?? r.value.text ?? r.value.choices]);
    expect(results(alice, 'valence')).toEqual([
      [0.0625, 'rating', 4],
      [0.5, 'rating', 1],
    ]);
    expect(results(alice, 'note')).toEqual([[0.0625, 'textarea', ['laughs, then "sighs"']]]);
    expect(results(alice, 'unsure')).toEqual([[0.5, 'choices', ['unsure']]]);
    expect(results(bob, 'arousal')).toEqual([
      [0.0625, 'rating', 5],
      [1, 'rating', 4],
      [1.3125, 'rating', 3],
    ]);
    const times = (who: string) =>
      before
        .filter((a) => a.annotator === who)
        .map((a) => a.at)
        .sort();
    expect([alice!.created_at, alice!.updated_at]).toEqual([times('alice')[0], times('alice').at(-1)]);
    expect([bob!.created_at, bob!.updated_at]).toEqual([times('bob')[0], times('bob').at(-1)]);

    const back = studio();
    const report = await importInto(back, path.join(out, 'tasks.json'));
    expect(report.failures).toEqual([]);
    // Label Studio keeps one time per annotation: each comes back with its annotator's latest time.
    expect(entered(back)).toEqual(before.map((a) => ({ ...a, at: times(a.annotator).at(-1)! })));
  });

  it('Label Studio: a rating outside 1–5 or not a number is reported per result; the rest imports', async () => {
    const s = await ratedProject();
    const out = await exportTo(s, 'label-studio');
    const file = path.join(out, 'tasks.json');
    const tasks = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      annotations: { result: { from_name: string; value: { start: number; rating?: unknown } }[] }[];
    }[];
    const rating = (k: number, from: string, start: number) =>
      tasks[0]!.annotations[k]!.result.find((r) => r.from_name === from && r.value.start === start)!.value;
    rating(0, 'valence', 0.0625).rating = 9;
    rating(1, 'arousal', 1).rating = 'loud';
    fs.writeFileSync(file, JSON.stringify(tasks));
    const back = studio();
    const report = await importInto(back, file);
    expect(report.failures.map((f) => f.reason)).toEqual([
      'task 1 (annotation 1 by alice): valence rating 9 is not a number from 1 to 5, left out',
      'task 1 (annotation 2 by bob): arousal rating "loud" is not a number from 1 to 5, left out',
    ]);
    const after = entered(back);
    expect(after.find((a) => a.annotator === 'alice' && a.text === 'hello, "world"')).toMatchObject({
      label: 'happy',
      valence: null,
      arousal: 2,
      note: 'laughs, then "sighs"',
    });
    expect(after.find((a) => a.annotator === 'bob' && a.start === 1)).toMatchObject({
      label: 'angry',
      arousal: null,
      note: 'shouts\nloudly',
    });
  });
});
