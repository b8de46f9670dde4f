/**
 * The corpus formats the import reads besides plain folders and our own CSV/JSONL manifests (which
 * `import-service` reads itself): recognised by content or file type, or named with `--format`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../errors';
import {
  readHead,
  type Corpus,
  type ImportFormat,
  type ImportFormatName,
  type ImportOptions,
  type TierAssignment,
} from './corpus';
import { audiofolderFormat } from './audiofolder';
import { eafFormat } from './eaf';
import { iemocapFormat } from './iemocap';
import { labelStudioFormat } from './label-studio';
import { meldFormat } from './meld';
import { textgridFormat } from './textgrid';

/** In detection order: the most specific first (the folder layouts before folders of files). */
export const CORPUS_FORMATS: ImportFormat[] = [
  iemocapFormat,
  meldFormat,
  audiofolderFormat,
  eafFormat,
  textgridFormat,
  labelStudioFormat,
];

/** Formats read one file at a time: a folder of them is read file by file. */
const PER_FILE: Partial<Record<ImportFormatName, string[]>> = {
  textgrid: ['.textgrid'],
  eaf: ['.eaf'],
  'label-studio': ['.json'],
};

/** The corpus format of a path, or null for what the plain import reads (folders of audio, manifests, audio). */
export function detectFormat(file: string, isDirectory: boolean): ImportFormat | null {
  if (isDirectory) {
    // A folder of TextGrids or EAFs (with their audio) is read file by file.
    const files = listFiles(file);
    for (const format of CORPUS_FORMATS) {
      const exts = PER_FILE[format.name];
      if (format.detect(file, null, true)) return format;
      if (exts && format.name !== 'label-studio' && files.some((f) => exts.includes(path.extname(f).toLowerCase())))
        return format;
    }
    return null;
  }
  const head = readHead(file);
  return CORPUS_FORMATS.find((f) => f.detect(file, head, false)) ?? null;
}

export function formatByName(name: ImportFormatName): ImportFormat | null {
  return CORPUS_FORMATS.find((f) => f.name === name) ?? null;
}

/** Reads a file, or every file of the format in a folder (recursively), into one corpus. */
export async function readCorpus(format: ImportFormat, file: string, isDirectory: boolean, options: ImportOptions) {
  const exts = PER_FILE[format.name];
  if (!isDirectory || !exts || format.detect(file, null, true)) return format.read(file, options);
  const all: Corpus = { recordings: [], problems: [], notes: [], tiers: [] };
  for (const f of listFiles(file).filter((f) => exts.includes(path.extname(f).toLowerCase()))) {
    const one = await format.read(f, options);
    all.recordings.push(...one.recordings);
    all.problems.push(
      ...one.problems.map((p) => ({ ...p, file: path.relative(file, path.join(path.dirname(f), p.file)) })),
    );
    all.notes.push(...one.notes);
    // The tiers of every file, each name once (the first file's role for it).
    for (const t of one.tiers ?? []) if (!all.tiers!.some((a) => a.name === t.name)) all.tiers!.push(t);
  }
  if (all.recordings.length === 0 && all.problems.length === 0)
    throw new StudioError('invalid_request', `No ${format.name} files in ${file}`);
  return all;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(d, e.name);
      if (e.isDirectory() && depth < 8) walk(full, depth + 1);
      else if (e.isFile()) out.push(full);
    }
  };
  walk(dir, 0);
  return out.sort();
}

/** What an import would read: the format, summary lines (counts, notes) and the tiers' roles. */
export interface CorpusPreview {
  format: ImportFormatName;
  lines: string[];
  /** TextGrid/EAF: every tier found and the role it gets (null: ignored); empty for other formats. */
  tiers: TierAssignment[];
}

/**
 * What an import of `source` would read, before anything is written (the CLI's summary, the Import
 * dialog's preview): the format, counts, the notes (tier roles, label mapping) and how many rows
 * cannot be used. Null when the path is not a corpus format (a plain folder, a manifest, an audio file).
 */
export async function previewCorpus(
  source: string,
  options: ImportOptions & { format?: ImportFormatName },
): Promise<CorpusPreview | null> {
  const isDirectory = fs.statSync(source).isDirectory();
  const format =
    options.format && !['csv', 'jsonl'].includes(options.format)
      ? formatByName(options.format)
      : options.format
        ? null
        : detectFormat(source, isDirectory);
  if (!format) return null;
  const corpus = await readCorpus(format, source, isDirectory, options);
  const segments = corpus.recordings.reduce((n, r) => n + r.segments.length, 0);
  const lines = [
    `${format.name}: ${corpus.recordings.filter((r) => r.media).length} audio file(s), ${segments} utterance(s), ` +
      `${corpus.problems.length} unusable row(s)`,
    ...corpus.notes,
  ];
  return { format: format.name, lines, tiers: corpus.tiers ?? [] };
}
