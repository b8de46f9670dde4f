/**
 * Praat TextGrid (text files, long and short format; UTF-8 or UTF-16). Both formats are the same
 * stream of numbers, quoted strings ("" inside is a quote) and <flags>; the long format adds
 * `name =` labels and `item [n]:` headings around them, which the tokenizer skips, as Praat does.
 */
import { AUDIO_EXTENSIONS } from '../../audio/decode';
import path from 'node:path';
import { StudioError } from '../../errors';
import {
  readText,
  resolveMedia,
  segmentsFromTiers,
  type Corpus,
  type ImportFormat,
  type ImportOptions,
  type Tier,
} from './corpus';

type Token = { kind: 'number'; value: number; line: number } | { kind: 'string' | 'flag'; value: string; line: number };

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '"') {
      const startLine = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new TextGridError('a string is not closed', startLine);
        const d = text[i]!;
        if (d === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (d === '\n') line++;
        value += d;
        i++;
      }
      tokens.push({ kind: 'string', value: value.replace(/\r\n/g, '\n'), line: startLine });
    } else if (c === '<') {
      const close = text.indexOf('>', i);
      if (close < 0) throw new TextGridError('a <flag> is not closed', line);
      tokens.push({ kind: 'flag', value: text.slice(i + 1, close), line });
      i = close + 1;
    } else if (c === '[') {
      // `item [1]:`, `intervals [3]:`: headings, not values.
      const close = text.indexOf(']', i);
      i = close < 0 ? n : close + 1;
    } else if (c === '!') {
      // A comment to the end of the line (Praat's text format allows them).
      while (i < n && text[i] !== '\n') i++;
    } else if (/[-+0-9.]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9.eE+-]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const value = Number(word);
      if (!Number.isFinite(value)) throw new TextGridError(`"${word.slice(0, 20)}" is not a number`, line);
      tokens.push({ kind: 'number', value, line });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      // A label such as `xmin =` or `tiers?`: skipped.
      while (i < n && /[A-Za-z0-9_?]/.test(text[i]!)) i++;
    } else {
      i++;
    }
  }
  return tokens;
}

export class TextGridError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(message);
  }
}

export interface TextGridTier {
  kind: 'IntervalTier' | 'TextTier';
  name: string;
  xmin: number;
  xmax: number;
  intervals: { xmin: number; xmax: number; text: string; line: number }[];
  points: { time: number; mark: string; line: number }[];
}

export interface TextGrid {
  xmin: number;
  xmax: number;
  tiers: TextGridTier[];
}

/** Parses a TextGrid's text (long or short format); throws TextGridError with the line where it went wrong. */
export function parseTextGrid(text: string): TextGrid {
  const tokens = tokenize(text);
  let at = 0;
  const last = () => tokens[Math.min(at, tokens.length - 1)]?.line ?? null;
  const next = (): Token => {
    const t = tokens[at++];
    if (!t) throw new TextGridError('the file ends too early', last());
    return t;
  };
  const num = (what: string): number => {
    const t = next();
    if (t.kind !== 'number') throw new TextGridError(`expected ${what} (a number)`, t.line);
    return t.value;
  };
  const str = (what: string): Token & { kind: 'string' } => {
    const t = next();
    if (t.kind !== 'string') throw new TextGridError(`expected ${what} (a quoted string)`, t.line);
    return t as Token & { kind: 'string' };
  };
  if (str('"ooTextFile"').value !== 'ooTextFile') throw new TextGridError('not a Praat text file (no "ooTextFile")', 1);
  if (str('"TextGrid"').value !== 'TextGrid') throw new TextGridError('not a TextGrid (the object class differs)', 2);
  const grid: TextGrid = { xmin: num('xmin'), xmax: num('xmax'), tiers: [] };
  const exists = next();
  if (exists.kind !== 'flag' || exists.value !== 'exists') return grid;
  const size = num('the number of tiers');
  for (let t = 0; t < size; t++) {
    const cls = str('the tier class');
    if (cls.value !== 'IntervalTier' && cls.value !== 'TextTier')
      throw new TextGridError(`unknown tier class "${cls.value.slice(0, 40)}"`, cls.line);
    const tier: TextGridTier = {
      kind: cls.value,
      name: str('the tier name').value,
      xmin: num('tier xmin'),
      xmax: num('tier xmax'),
      intervals: [],
      points: [],
    };
    const count = num('the number of intervals');
    for (let k = 0; k < count; k++) {
      if (tier.kind === 'IntervalTier') {
        const start = next();
        if (start.kind !== 'number') throw new TextGridError('expected interval xmin (a number)', start.line);
        tier.intervals.push({
          xmin: start.value,
          xmax: num('interval xmax'),
          text: str('the interval text').value,
          line: start.line,
        });
      } else {
        const time = next();
        if (time.kind !== 'number') throw new TextGridError('expected a point time (a number)', time.line);
        tier.points.push({ time: time.value, mark: str('the point mark').value, line: time.line });
      }
    }
    grid.tiers.push(tier);
  }
  return grid;
}

/** The recording beside a TextGrid: the same name with an audio extension. */
export function mediaBeside(file: string): string | null {
  const stem = file.slice(0, -path.extname(file).length);
  for (const ext of AUDIO_EXTENSIONS) {
    for (const candidate of [stem + ext, stem + ext.toUpperCase()]) {
      const found = resolveMedia(candidate, file);
      if (found) return found;
    }
  }
  return null;
}

/** A tier named "emotion:alice" (as our export writes) is alice's; other tiers have no annotator. */
export function splitTierName(name: string): { base: string; annotator: string | null } {
  const m = /^(.*?):([^:]+)$/.exec(name);
  return m && m[1] ? { base: m[1], annotator: m[2]!.trim() || null } : { base: name, annotator: null };
}

export const textgridFormat: ImportFormat = {
  name: 'textgrid',
  detect: (file, head, isDirectory) =>
    !isDirectory &&
    (path.extname(file).toLowerCase() === '.textgrid' ||
      /"ooTextFile"\s*\r?\n\s*(Object class = )?"TextGrid"/.test(head ?? '')),
  read(file: string, options: ImportOptions): Corpus {
    const name = path.basename(file);
    let grid: TextGrid;
    try {
      grid = parseTextGrid(readText(file));
    } catch (err) {
      if (err instanceof TextGridError)
        return { recordings: [], problems: [{ file: name, line: err.line, reason: err.message }], notes: [] };
      throw new StudioError('not_found', `Cannot read ${file}: ${(err as Error).message}`);
    }
    const problems: Corpus['problems'] = [];
    const tiers: Tier[] = [];
    for (const t of grid.tiers) {
      if (t.kind === 'TextTier') {
        problems.push({
          file: name,
          line: null,
          reason: `tier "${t.name}" is a point tier: only interval tiers are imported`,
        });
        continue;
      }
      const { annotator } = splitTierName(t.name);
      tiers.push({
        name: t.name,
        annotator,
        intervals: t.intervals.map((iv) => ({ start: iv.xmin, end: iv.xmax, text: iv.text, line: iv.line })),
      });
    }
    const result = segmentsFromTiers(tiers, file, options);
    problems.push(...result.problems);
    const media = mediaBeside(file);
    if (!media)
      problems.push({
        file: name,
        line: null,
        reason: 'no audio file beside it with the same name (.wav, .flac, …): not imported',
      });
    return {
      recordings: media ? [{ media, segments: result.segments }] : [],
      problems,
      notes: result.notes,
      tiers: result.tiers,
    };
  },
};
