/**
 * A Hugging Face audiofolder: `metadata.csv` (`file_name` and further columns) in the folder and/or in
 * split folders (`train/`, `validation/`, `test/`…), clips beside it. Our own export is one: its
 * `file_name,label,text,speaker,start,end,annotator,valence,arousal,dominance,note,unsure,annotated_at,…`
 * come back as the same utterances (each clip whole: start/end are positions in the original
 * recordings), labels, ratings, notes, unsure flags and annotators (rows of one clip are one
 * utterance: an export with one row per annotator comes back as each annotator's annotation). Columns it
 * derives (consensus_label, votes, soft_label…) are recomputed, not read. Without an `annotator`
 * column a label is the dataset's imported label.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  attributeValue,
  decodeText,
  splitOf,
  type Corpus,
  type CorpusProblem,
  type CorpusRecording,
  type ImportFormat,
} from './corpus';
import { ratingCell, readCsvTable } from './csv-table';

const METADATA = 'metadata.csv';

function metadataFiles(dir: string): string[] {
  const out: string[] = [];
  if (isFile(path.join(dir, METADATA))) out.push(path.join(dir, METADATA));
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  const order = (n: string) => ['train', 'validation', 'test'].indexOf(n) + 1 || 9;
  for (const e of entries.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name)))
    if (e.isDirectory() && !e.name.startsWith('.') && isFile(path.join(dir, e.name, METADATA)))
      out.push(path.join(dir, e.name, METADATA));
  return out;
}

const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** Whether a WavFusion export wrote only people's labels (its provenance says); null when not ours. */
function humanOnly(dir: string): boolean | null {
  try {
    const p = JSON.parse(fs.readFileSync(path.join(dir, 'provenance.json'), 'utf8')) as {
      app?: { name?: string };
      labelSources?: string;
    };
    if (p.app?.name !== 'WavFusion Studio') return null;
    return p.labelSources === 'human only';
  } catch {
    return null;
  }
}

export const audiofolderFormat: ImportFormat = {
  name: 'audiofolder',
  detect(file, head, isDirectory) {
    if (isDirectory) return metadataFiles(file).length > 0;
    if (!head || path.basename(file).toLowerCase() !== METADATA) return false;
    return /(^|,)\s*"?file_name"?\s*(,|$)/m.test(head.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!);
  },
  read(file: string): Corpus {
    const directory = !isFile(file);
    const root = directory ? file : path.dirname(file);
    const files = directory ? metadataFiles(file) : [file];
    const problems: CorpusProblem[] = [];
    const notes: string[] = [];
    const byClip = new Map<string, CorpusRecording>();
    const bySplit = new Map<string, number>();
    const fromExport = humanOnly(root);
    let importedLabels = 0;
    for (const metadata of files) {
      const name = path.relative(root, metadata) || METADATA;
      const dir = path.dirname(metadata);
      const split = path.relative(root, dir) || '(top)';
      const table = readCsvTable(decodeText(fs.readFileSync(metadata)));
      if ('error' in table) {
        problems.push({ file: name, line: null, reason: table.error });
        continue;
      }
      if (!table.columns.includes('file_name')) {
        problems.push({ file: name, line: 1, reason: 'no file_name column' });
        continue;
      }
      const hasAnnotator = table.columns.includes('annotator');
      for (const { line, record } of table.rows) {
        const where = { file: name, line };
        const clip = (record.file_name ?? '').trim();
        if (!clip) {
          problems.push({ ...where, reason: 'empty file_name' });
          continue;
        }
        const media = path.resolve(dir, clip);
        if (!isFile(media)) {
          problems.push({ ...where, reason: `audio not found: ${clip}` });
          continue;
        }
        const ratings = (['valence', 'arousal', 'dominance'] as const).map((c) => ratingCell(record[c], c));
        const bad = ratings.find((r) => r !== null && typeof r === 'object');
        if (bad) {
          problems.push({ ...where, reason: bad.error });
          continue;
        }
        const [valence, arousal, dominance] = ratings as (number | null)[];
        // The unsure flag (our export's true/false; empty: not flagged).
        const flag = record.unsure?.trim() ? attributeValue('unsure', record.unsure) : false;
        if (typeof flag === 'object') {
          problems.push({ ...where, reason: flag.error });
          continue;
        }
        const unsure = flag === true;
        const annotator = hasAnnotator ? record.annotator?.trim() || null : null;
        const label = record.label?.trim() || null;
        const note = record.note ?? '';
        const at = record.annotated_at?.trim();
        const annotatedAt = at && !Number.isNaN(Date.parse(at)) ? at : undefined;
        let recording = byClip.get(media);
        if (!recording) {
          recording = {
            media,
            segments: [
              {
                start: null,
                end: null,
                text: (record.text ?? '').trim(),
                speaker: record.speaker?.trim() || null,
                annotations: [],
                predictions: [],
                origin: `${name}:${line}`,
                split: splitOf(path.basename(split)),
              },
            ],
          };
          byClip.set(media, recording);
          bySplit.set(split, (bySplit.get(split) ?? 0) + 1);
        }
        const seg = recording.segments[0]!;
        if (seg.annotations.some((a) => a.annotator === annotator)) {
          problems.push({
            ...where,
            reason: `${clip}: a second row ${annotator ? `by ${annotator}` : 'without annotator'}, left out`,
          });
          continue;
        }
        if (!label && valence === null && arousal === null && dominance === null && !note && !unsure) continue;
        if (!annotator) importedLabels++;
        seg.annotations.push({ annotator, label, valence, arousal, dominance, note, unsure, annotatedAt });
      }
    }
    if (files.length === 0) problems.push({ file: path.basename(file), line: null, reason: `no ${METADATA}` });
    notes.push(
      `audiofolder: ${byClip.size} clip(s), each imported whole (start/end columns are positions in the original recordings)`,
      `audiofolder splits stored with the utterances (train, validation/valid/dev, test folders; an export can keep them): ${[...bySplit].map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}`,
    );
    if (importedLabels)
      notes.push(`audiofolder: ${importedLabels} label(s) without an annotator: the dataset's imported labels`);
    if (fromExport === false)
      notes.push(
        'audiofolder: this export also held imported labels; the annotator column (their source file) is taken as the annotator',
      );
    return { recordings: [...byClip.values()], problems, notes };
  },
};
