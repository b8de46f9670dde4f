import { parse as parseCsv } from 'csv-parse/sync';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { StoredSplit } from '../db/utterances-repository';
import { StudioError } from '../errors';
import { splitOf } from './formats/corpus';

/** One row of a CSV or JSONL manifest, paths already resolved against the manifest's folder. */
export interface ManifestRow {
  line: number;
  path: string;
  text: string;
  speaker: string | null;
  label: string | null;
  /** Who gave the label (one row per utterance and annotator), if the manifest says. */
  annotator: string | null;
  start: number | null;
  end: number | null;
  /** The `split` column (our CSV/JSONL exports write it): train, validation (or valid/dev), test; else null. */
  split: StoredSplit | null;
}

export interface ManifestProblem {
  line: number;
  reason: string;
}

const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? null : String(v).trim() || null));
const optionalSeconds = z
  .union([z.number(), z.string()])
  .nullish()
  .transform((v, ctx) => {
    if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return null;
    const n = typeof v === 'number' ? v : Number(v.trim());
    if (!Number.isFinite(n) || n < 0) {
      ctx.addIssue({ code: 'custom', message: `not a time in seconds: ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  });

const RowSchema = z.object({
  path: z.string({ error: 'missing path' }).trim().min(1, 'empty path'),
  text: optionalText,
  speaker: optionalText,
  label: optionalText,
  annotator: optionalText.refine((v) => v === null || (v.length <= 80 && !/\p{Cc}/u.test(v)), {
    message: 'an annotator name is at most 80 characters, without control characters',
  }),
  start: optionalSeconds,
  end: optionalSeconds,
  split: optionalText,
});

export const MANIFEST_EXTENSIONS = ['.csv', '.jsonl'];

export function isManifestPath(file: string): boolean {
  return MANIFEST_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

/**
 * Parses a CSV (header row; BOM, quotes and CRLF handled) or JSONL manifest. A manifest that cannot be
 * read as a whole throws; a bad row becomes a problem and the other rows still come back.
 */
export function readManifest(file: string): { rows: ManifestRow[]; problems: ManifestProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new StudioError('not_found', `Cannot read manifest ${file}: ${(err as Error).message}`);
  }
  const base = path.dirname(file);
  const name = path.basename(file);
  const records: { line: number; value: unknown }[] = [];
  const problems: ManifestProblem[] = [];
  if (path.extname(file).toLowerCase() === '.jsonl') {
    text
      .replace(/^\uFEFF/, '')
      .split(/\r?\n/)
      .forEach((lineText, i) => {
        if (!lineText.trim()) return;
        try {
          records.push({ line: i + 1, value: JSON.parse(lineText) });
        } catch {
          // The parser's message quotes the line: never echo file contents (it may not be a manifest).
          problems.push({ line: i + 1, reason: 'not valid JSON' });
        }
      });
  } else {
    let parsed: { record: Record<string, string>; info: { lines: number } }[];
    try {
      parsed = parseCsv(text, {
        bom: true,
        columns: (header: string[]) => header.map((h) => h.trim().toLowerCase()),
        skip_empty_lines: true,
        info: true,
      });
    } catch (err) {
      // csv-parse's message can quote the text; say what and where instead.
      const { code, lines } = err as { code?: string; lines?: number };
      const what = code ? code.replace(/^CSV_/, '').replace(/_/g, ' ').toLowerCase() : 'unreadable';
      throw new StudioError(
        'invalid_request',
        `${name} is not a valid CSV file: ${what}${lines ? ` (line ${lines})` : ''}`,
      );
    }
    const columns = parsed.length ? Object.keys(parsed[0]!.record) : [];
    if (parsed.length && !columns.includes('path')) {
      // Column names are quoted only when they look like a header, not like the contents of some other file.
      const header = columns.every((c) => /^[\p{L}\p{N}_ .-]{1,40}$/u.test(c))
        ? `found: ${columns.join(', ')}`
        : `its first line is not a manifest header`;
      throw new StudioError(
        'invalid_request',
        `${name} has no "path" column (${header}); expected path, text, speaker, label, annotator, start, end`,
      );
    }
    for (const p of parsed) records.push({ line: p.info.lines, value: p.record });
  }
  const rows: ManifestRow[] = [];
  for (const { line, value } of records) {
    const result = RowSchema.safeParse(value);
    if (!result.success) {
      problems.push({
        line,
        reason: result.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; '),
      });
      continue;
    }
    const r = result.data;
    if (r.start !== null && r.end !== null && r.end <= r.start) {
      problems.push({ line, reason: `end (${r.end}) must be after start (${r.start})` });
      continue;
    }
    rows.push({
      line,
      path: path.resolve(base, r.path),
      text: r.text ?? '',
      speaker: r.speaker,
      label: r.label,
      annotator: r.annotator,
      start: r.start,
      end: r.end,
      split: splitOf(r.split),
    });
  }
  return { rows, problems };
}
