/**
 * MELD's CSVs (`train_sent_emo.csv`, `dev_sent_emo.csv`, `test_sent_emo.csv`: Sr No., Utterance,
 * Speaker, Emotion, Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime), one file
 * or a folder of them. Each row is one clip, `dia{D}_utt{U}.wav` (or the released `.mp4`), found in the
 * given media folder or under the CSV's folder: in a folder named after its split (MELD's
 * `train_splits`, `dev_splits_complete`, `output_repeated_splits_test`), or beside a CSV read alone
 * (dialogue ids restart in every split). The emotion is the corpus's label, the sentiment its note.
 * MELD's CSVs are UTF-8 with mojibake (`â€™` for `’`) or cp1252: both are decoded to what was meant.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  splitOf,
  type Corpus,
  type CorpusProblem,
  type CorpusRecording,
  type ImportFormat,
  type ImportOptions,
} from './corpus';
import { readCsvTable } from './csv-table';

const REQUIRED = ['Utterance', 'Speaker', 'Emotion', 'Dialogue_ID', 'Utterance_ID'];
const CSV_NAME = /^(train|dev|test)_sent_emo\.csv$/i;
const CLIP = /^dia(\d+)_utt(\d+)\.(wav|flac|mp4|m4a|mp3|ogg|opus)$/i;
/** The folder names of a split's clips in the release (and the usual alternatives). */
const SPLIT_DIR: Record<string, RegExp> = { train: /train/i, dev: /dev|val/i, test: /test/i };

/** cp1252's bytes 0x80–0x9F (the rest of 0x80–0xFF is Latin-1). */
const CP1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];
const CP1252_BYTE = new Map<number, number>(CP1252_HIGH.map((c, i) => [c, 0x80 + i]));
const byteOf = (ch: string): number | undefined => {
  const c = ch.codePointAt(0)!;
  return CP1252_BYTE.get(c) ?? (c >= 0x80 && c <= 0xff ? c : undefined);
};
const CONT = `[\\u0080-\\u00bf${CP1252_HIGH.filter((c) => c > 0xff)
  .map((c) => `\\u${c.toString(16).padStart(4, '0')}`)
  .join('')}]`;
const MOJIBAKE = new RegExp(`[\\u00c2-\\u00f4]${CONT}{1,3}`, 'g');

/**
 * Text as meant: UTF-8 when the bytes are UTF-8, else cp1252; then runs of UTF-8 read as cp1252
 * (`â€™`, `Ã©`) are turned back into the characters they encode, where they decode as UTF-8.
 */
export function decodeMeldText(bytes: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // By hand: Node's TextDecoder reads 'windows-1252' as Latin-1 (0x92 → U+0092, not ’).
    text = Array.from(bytes, (b) => String.fromCharCode(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80]! : b)).join('');
  }
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  return text.replace(/^\uFEFF/, '').replace(MOJIBAKE, (run) => {
    const out = [...run].map(byteOf);
    if (out.some((b) => b === undefined)) return run;
    try {
      return utf8.decode(Uint8Array.from(out as number[]));
    } catch {
      return run;
    }
  });
}

const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

function csvsIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => CSV_NAME.test(n))
      .sort()
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** Every clip under a folder (4 levels), by `dia{D}_utt{U}`, with the folders above it. */
function indexClips(root: string): Map<string, { file: string; dirs: string }[]> {
  const out = new Map<string, { file: string; dirs: string }[]>();
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory() && depth < 4) walk(full, depth + 1);
      const m = CLIP.exec(e.name);
      if (e.isFile() && m) {
        const key = `dia${Number(m[1])}_utt${Number(m[2])}`;
        out.set(key, [...(out.get(key) ?? []), { file: full, dirs: path.relative(root, dir) }]);
      }
    }
  };
  walk(root, 0);
  return out;
}

export const meldFormat: ImportFormat = {
  name: 'meld',
  detect(file, head, isDirectory) {
    if (isDirectory) return csvsIn(file).length > 0;
    if (!head || path.extname(file).toLowerCase() !== '.csv') return false;
    const header = head.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!;
    return REQUIRED.every((c) => header.includes(c));
  },
  read(file: string, options: ImportOptions): Corpus {
    const directory = !isFile(file);
    const csvs = directory ? csvsIn(file) : [file];
    const root = directory ? file : path.dirname(file);
    const problems: CorpusProblem[] = [];
    const notes: string[] = [];
    const roots = [...(options.media ? [path.resolve(options.media)] : []), root];
    const indexes = roots.map((r) => indexClips(r));
    const recordings: CorpusRecording[] = [];
    const bySplit = new Map<string, number>();
    const counts = new Map<string, number>();
    let mojibake = 0;
    for (const csv of csvs) {
      const name = path.relative(root, csv) || path.basename(csv);
      const split = CSV_NAME.exec(path.basename(csv))?.[1]?.toLowerCase() ?? null;
      const bytes = fs.readFileSync(csv);
      const text = decodeMeldText(bytes);
      if (text !== bytes.toString('utf8').replace(/^\uFEFF/, '')) mojibake++;
      const table = readCsvTable(text);
      if ('error' in table) {
        problems.push({ file: name, line: null, reason: table.error });
        continue;
      }
      const missing = REQUIRED.filter((c) => !table.columns.includes(c));
      if (missing.length) {
        problems.push({ file: name, line: 1, reason: `not a MELD CSV: no ${missing.join(', ')} column` });
        continue;
      }
      const seen = new Set<string>();
      for (const { line, record } of table.rows) {
        const where = { file: name, line };
        const d = record.Dialogue_ID?.trim() ?? '';
        const u = record.Utterance_ID?.trim() ?? '';
        if (!/^\d+$/.test(d) || !/^\d+$/.test(u)) {
          problems.push({ ...where, reason: `Dialogue_ID/Utterance_ID "${d}"/"${u}" are not numbers` });
          continue;
        }
        const key = `dia${Number(d)}_utt${Number(u)}`;
        if (seen.has(key)) {
          problems.push({ ...where, reason: `${key} appears twice, left out` });
          continue;
        }
        seen.add(key);
        const media = findClip(key, split, csvs.length === 1, indexes);
        if (!media) {
          problems.push({
            ...where,
            reason: `no audio ${key}.wav or .mp4${split ? ` in a ${split} folder` : ''} under ${roots.join(' or ')}`,
          });
          continue;
        }
        const emotion = record.Emotion?.trim().toLowerCase() ?? '';
        const sentiment = record.Sentiment?.trim().toLowerCase() ?? '';
        recordings.push({
          media,
          segments: [
            {
              start: null,
              end: null,
              text: (record.Utterance ?? '').trim(),
              speaker: record.Speaker?.trim() || null,
              annotations: emotion
                ? [{ annotator: null, label: emotion, note: sentiment ? `sentiment: ${sentiment}` : '' }]
                : [],
              predictions: [],
              origin: `${name}:${line}`,
              split: splitOf(split),
            },
          ],
        });
        if (emotion) counts.set(emotion, (counts.get(emotion) ?? 0) + 1);
        bySplit.set(split ?? 'unknown', (bySplit.get(split ?? 'unknown') ?? 0) + 1);
      }
    }
    if (csvs.length === 0) problems.push({ file: path.basename(file), line: null, reason: 'no MELD CSV files' });
    notes.push(
      `MELD: ${recordings.length} utterance(s); labels: ${[...counts].map(([l, n]) => `${l} ${n}`).join(', ') || 'none'}; ` +
        'the sentiment is kept as the label’s note; StartTime/EndTime are positions in the episode, each clip is imported whole',
      `MELD splits stored with the utterances (dev as validation; an export can keep them): ${[...bySplit].map(([s, n]) => `${s} ${n}`).join(', ') || 'none'}`,
    );
    if (mojibake) notes.push(`MELD: ${mojibake} CSV file(s) held cp1252 bytes or mojibake (â€™): decoded`);
    return { recordings, problems, notes };
  },
};

function findClip(
  key: string,
  split: string | null,
  alone: boolean,
  indexes: Map<string, { file: string; dirs: string }[]>[],
): string | null {
  const rank = (f: string) => (f.toLowerCase().endsWith('.wav') ? 0 : f.toLowerCase().endsWith('.mp4') ? 2 : 1);
  for (const index of indexes) {
    const found = index.get(key) ?? [];
    const inSplit = split ? found.filter((c) => SPLIT_DIR[split]!.test(c.dirs)) : [];
    const flat = alone ? found.filter((c) => c.dirs === '') : [];
    const pick = (inSplit.length ? inSplit : flat).sort((a, b) => rank(a.file) - rank(b.file))[0];
    if (pick) return pick.file;
  }
  return null;
}
