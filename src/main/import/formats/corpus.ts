/**
 * The neutral intermediate every corpus format reads into and writes from: recordings (one media
 * file each), their segments with start/end, transcript and speaker, labels per annotator and model
 * predictions. Importers return it with the problems they found (file, line, reason); the import
 * service writes it to the project; exporters get the project in the same shape.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The format names and tier roles are the contract's (one list each: the CLI, the dialog and the readers).
import type { ImportFormatName, TierRole } from '../../../shared/contract';
export type { ImportFormatName, TierRole };

/**
 * Roles of tiers that carry what an annotator entered besides the label (our TextGrid/EAF exports
 * write them as `valence:NAME`, `valence (NAME)`…): each interval is that annotator's value on the
 * utterance it falls in.
 */
export const ATTRIBUTE_ROLES = ['valence', 'arousal', 'dominance', 'note', 'unsure', 'annotated_at'] as const;
export type AttributeRole = (typeof ATTRIBUTE_ROLES)[number];

export interface CorpusAnnotation {
  /** A person (their own annotation) or null: the file's label, stored as an imported label. */
  annotator: string | null;
  label: string | null;
  valence?: number | null;
  arousal?: number | null;
  dominance?: number | null;
  /** What the annotator wrote besides the label (audiofolder's note column; MELD's sentiment). */
  note?: string;
  /** When it was made (ISO 8601), if the file says; else the time of the import. */
  annotatedAt?: string;
  /** The annotator's "unsure / skip" flag, if the file says. */
  unsure?: boolean;
}

export interface CorpusPrediction {
  modelVersion: string;
  label: string;
  /** The model's score for its label (0–1), if the file gives one. */
  score: number | null;
}

export interface CorpusSegment {
  /** Seconds; null: the whole recording. */
  start: number | null;
  end: number | null;
  text: string;
  speaker: string | null;
  annotations: CorpusAnnotation[];
  predictions: CorpusPrediction[];
  /** Where it came from, for the report: "file.TextGrid:12". */
  origin: string;
  /** The split the corpus put it in (MELD's CSV, an audiofolder's split folder), stored with it. */
  split?: 'train' | 'validation' | 'test' | null;
}

/** A corpus's split name as one of ours: MELD's dev and the usual spellings are validation; else null. */
export function splitOf(name: string | null): 'train' | 'validation' | 'test' | null {
  const n = (name ?? '').toLowerCase();
  if (/^(train|training)$/.test(n)) return 'train';
  if (/^(validation|valid|val|dev|development)$/.test(n)) return 'validation';
  if (/^(test|testing)$/.test(n)) return 'test';
  return null;
}

export interface CorpusRecording {
  /** The audio file found for it (absolute), or null when it is missing (reported). */
  media: string | null;
  durationS?: number;
  segments: CorpusSegment[];
}

export interface CorpusProblem {
  file: string;
  line: number | null;
  reason: string;
}

export interface Corpus {
  recordings: CorpusRecording[];
  problems: CorpusProblem[];
  /** What was recognised, for the summary/preview: "tier 'words' → transcript". */
  notes: string[];
  /** TextGrid/EAF: each tier read and the role it was given (null: ignored), for the preview. */
  tiers?: TierAssignment[];
}

export interface TierAssignment {
  name: string;
  role: TierRole | null;
}

export interface ImportOptions {
  /** Tier name → role; tiers not named are ignored when given. */
  tiers?: Record<string, TierRole>;
  /**
   * IEMOCAP: map the 10 categories onto the 4-class convention (neu→neutral, hap and exc→happy,
   * ang→angry, sad→sad). `drop` leaves out utterances whose consensus is another category (and
   * evaluators' other labels); `keep` imports them with their own category names.
   */
  fourClass?: 'drop' | 'keep';
  /** MELD: a folder holding the `dia{D}_utt{U}` audio (else it is looked for beside the CSV). */
  media?: string;
}

/** One corpus format on the import side. */
export interface ImportFormat {
  name: ImportFormatName;
  /** Whether this path (file or folder) looks like this format; `head` is the file's first 4 KiB, decoded. */
  detect(file: string, head: string | null, isDirectory: boolean): boolean;
  read(file: string, options: ImportOptions): Corpus | Promise<Corpus>;
}

export const problemPath = (p: CorpusProblem) => (p.line === null ? p.file : `${p.file}:${p.line}`);

/**
 * Decodes a text file: UTF-8 (with or without BOM), UTF-16 LE/BE with BOM, and UTF-16 without BOM
 * when every other byte is zero (what Praat and Windows tools write).
 */
export function decodeText(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe)
    return new TextDecoder('utf-16le').decode(bytes.subarray(2));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff)
    return new TextDecoder('utf-16be').decode(bytes.subarray(2));
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf)
    return bytes.subarray(3).toString('utf8');
  if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] !== 0 && bytes[2] === 0)
    return new TextDecoder('utf-16be').decode(bytes);
  if (bytes.length >= 4 && bytes[0] !== 0 && bytes[1] === 0 && bytes[3] === 0)
    return new TextDecoder('utf-16le').decode(bytes);
  return bytes.toString('utf8');
}

export function readText(file: string): string {
  return decodeText(fs.readFileSync(file));
}

/** The first 4 KiB of a file, decoded, for detection; null for a folder or an unreadable file. */
export function readHead(file: string): string | null {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(4096);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return decodeText(buf.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return null;
  }
}

/**
 * Finds a media file a corpus file refers to: as an absolute path (or file:// URL), then relative to
 * the referring file, then by its name beside the referring file. Null when none exists.
 */
export function resolveMedia(reference: string, referrer: string, beside = true): string | null {
  const base = path.dirname(referrer);
  const candidates: string[] = [];
  let ref = reference.trim();
  if (!ref) return null;
  if (/^file:/i.test(ref)) {
    try {
      ref = fileURLToPath(ref);
    } catch {
      ref = decodeURIComponent(ref.replace(/^file:(\/\/)?/i, ''));
    }
  }
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(ref);
  if (!isUrl && path.isAbsolute(ref)) candidates.push(ref);
  if (!isUrl) candidates.push(path.resolve(base, ref));
  const name = path.basename(isUrl ? new URL(ref).pathname : ref.replace(/\\/g, '/'));
  if (name && beside) candidates.push(path.join(base, decodeURIComponent(name)));
  for (const c of candidates) {
    try {
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // try the next
    }
  }
  return null;
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The role a tier name suggests when no --tier says: transcripts and labels by name, speakers too. */
export function roleByName(name: string): TierRole | null {
  const n = name.toLowerCase();
  // `valence`, `valence:alice`, `valence 2:alice`, `valence (alice)`: before the others, since the
  // annotator's name could be anything ("note:labeler1" is a note, not a label).
  const attribute = /^\s*(valence|arousal|dominance|note|unsure|annotated_at)(\s+\d+)?\s*(\(.*\)|:.*)?$/.exec(n);
  if (attribute) return attribute[1] as AttributeRole;
  if (/emotion|label|category|emo\b|affect/.test(n)) return 'label';
  if (/utterance|transcri|text|words|ortho|sentence/.test(n)) return 'transcript';
  if (/speaker|spk/.test(n)) return 'speaker';
  return null;
}

/** Intersection over union of two time spans. */
const iou = (a: { start: number; end: number }, b: { start: number; end: number }) =>
  Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start)) /
  (Math.max(a.end, b.end) - Math.min(a.start, b.start));

export interface TierInterval {
  start: number;
  end: number;
  text: string;
  line: number | null;
}

export interface Tier {
  name: string;
  /** Who made the tier, if the file says (EAF ANNOTATOR, or a TextGrid tier named "emotion:alice"). */
  annotator: string | null;
  intervals: TierInterval[];
  /** Every interval is an annotation, even an empty one (EAF); a TextGrid's empty intervals are gaps. */
  explicit?: boolean;
}

/**
 * Turns interval tiers into segments: the utterance tiers' (else the transcript tiers', else the label
 * tiers') non-empty intervals are the segments; every other tier's interval that overlaps a segment
 * most (by more than half the shorter of the two) gives its transcript, label or speaker. Overlapping
 * intervals within a tier, and label intervals that fall in no segment, are reported.
 */
export function segmentsFromTiers(
  tiers: Tier[],
  file: string,
  options: ImportOptions,
): Omit<Corpus, 'recordings'> & {
  segments: CorpusSegment[];
  tiers: TierAssignment[];
} {
  const name = path.basename(file);
  const problems: CorpusProblem[] = [];
  const notes: string[] = [];
  const roles = new Map<Tier, TierRole>();
  const assigned: TierAssignment[] = [];
  for (const tier of tiers) {
    const role = options.tiers ? (options.tiers[tier.name] ?? null) : roleByName(tier.name);
    notes.push(`${name}: tier "${tier.name}" → ${role ?? 'ignored'}`);
    assigned.push({ name: tier.name, role });
    if (role) roles.set(tier, role);
  }
  if (options.tiers) {
    for (const wanted of Object.keys(options.tiers))
      if (!tiers.some((t) => t.name === wanted))
        problems.push({ file: name, line: null, reason: `no tier named "${wanted}" (--tier)` });
  }
  const ofRole = (role: TierRole) => [...roles].filter(([, r]) => r === role).map(([t]) => t);
  const baseRole = (['utterance', 'transcript', 'label', 'speaker'] as const).find((r) => ofRole(r).length > 0);
  const keepsEmpty = (tier: Tier, role: TierRole) => role === baseRole && (role === 'utterance' || !!tier.explicit);
  // Overlaps within a tier: the later interval is reported and left out.
  const clean = new Map<Tier, TierInterval[]>();
  for (const [tier, role] of roles) {
    const kept: TierInterval[] = [];
    for (const iv of [...tier.intervals].sort((a, b) => a.start - b.start || a.end - b.end)) {
      if (!iv.text.trim() && !keepsEmpty(tier, role)) continue;
      if (!(iv.end > iv.start)) {
        problems.push({
          file: name,
          line: iv.line,
          reason: `tier "${tier.name}": interval ends (${iv.end}) before it starts (${iv.start})`,
        });
        continue;
      }
      const prev = kept[kept.length - 1];
      if (prev && iv.start < prev.end - 1e-9) {
        problems.push({
          file: name,
          line: iv.line,
          reason: `tier "${tier.name}": interval ${iv.start}–${iv.end} s overlaps the one before (${prev.start}–${prev.end} s)`,
        });
        continue;
      }
      kept.push(iv);
    }
    clean.set(tier, kept);
  }
  if (!baseRole) {
    problems.push({
      file: name,
      line: null,
      reason: 'no utterance, transcript or label tier found (name one with --tier NAME=ROLE)',
    });
    return { segments: [], problems, notes, tiers: assigned };
  }
  // Segments: the base tiers' intervals, the same boundaries (within 1 ms) once.
  const segs: { start: number; end: number; line: number | null; text: string; words: string[]; seg: CorpusSegment }[] =
    [];
  const segmentOf = (iv: { start: number; end: number; line: number | null }): (typeof segs)[number] => ({
    start: iv.start,
    end: iv.end,
    line: iv.line,
    text: '',
    words: [],
    seg: {
      start: iv.start,
      end: iv.end,
      text: '',
      speaker: null,
      annotations: [],
      predictions: [],
      origin: iv.line === null ? name : `${name}:${iv.line}`,
    },
  });
  for (const tier of ofRole(baseRole)) {
    for (const iv of clean.get(tier)!) {
      if (!iv.text.trim() && !tier.explicit) continue;
      if (segs.some((s) => Math.abs(s.start - iv.start) < 1e-3 && Math.abs(s.end - iv.end) < 1e-3)) continue;
      segs.push(segmentOf(iv));
    }
  }
  // A label interval in no base interval (an utterance without a transcript) is a segment of its own.
  if (baseRole !== 'label') {
    for (const tier of ofRole('label')) {
      for (const iv of clean.get(tier)!) {
        const inSome = segs.some((s) => iou(s, iv) > 0.5);
        if (inSome || !iv.text.trim()) continue;
        segs.push(segmentOf(iv));
      }
    }
  }
  segs.sort((a, b) => a.start - b.start);
  const attributes: {
    seg: CorpusSegment;
    annotator: string | null;
    role: AttributeRole;
    value: number | string | boolean;
  }[] = [];
  const match = (iv: TierInterval) => {
    // The segment the interval overlaps most relative to both (intersection over union).
    let best: (typeof segs)[number] | null = null;
    let bestOverlap = 0;
    let bestScore = 0;
    for (const s of segs) {
      const overlap = Math.min(s.end, iv.end) - Math.max(s.start, iv.start);
      const score = overlap / (Math.max(s.end, iv.end) - Math.min(s.start, iv.start));
      if (overlap > 0 && score > bestScore) {
        best = s;
        bestOverlap = overlap;
        bestScore = score;
      }
    }
    return best && bestOverlap > 0.5 * Math.min(best.end - best.start, iv.end - iv.start) ? best : null;
  };
  for (const [tier, role] of roles) {
    if (role === 'speaker') {
      // A speaker interval often spans several utterances: each segment takes the one covering most of it.
      for (const s of segs) {
        let best: TierInterval | null = null;
        for (const iv of clean.get(tier)!) {
          const overlap = Math.min(s.end, iv.end) - Math.max(s.start, iv.start);
          // An interval that is some utterance's own (same span) names only that one's speaker.
          const owned = segs.some((o) => o !== s && iou(o, iv) > 0.9) && iou(s, iv) <= 0.9;
          if (iv.text.trim() && !owned && overlap > 0.5 * (s.end - s.start) && (!best || iou(s, iv) > iou(s, best)))
            best = iv;
        }
        if (best) s.seg.speaker = best.text.trim();
      }
      continue;
    }
    for (const iv of clean.get(tier)!) {
      if (!iv.text.trim()) continue;
      const s = match(iv);
      if (!s) {
        if (role !== baseRole)
          problems.push({
            file: name,
            line: iv.line,
            reason: `tier "${tier.name}": interval ${iv.start}–${iv.end} s ("${iv.text.trim().slice(0, 40)}") lies in no utterance`,
          });
        continue;
      }
      const text = iv.text.trim();
      if (role === 'transcript') s.words.push(text);
      else if (role === 'utterance') s.text ||= text;
      else if (role === 'label') s.seg.annotations.push({ annotator: tier.annotator, label: text });
      else {
        const value = attributeValue(role, iv.text);
        if (typeof value === 'object' && value !== null && 'error' in value)
          problems.push({ file: name, line: iv.line, reason: `tier "${tier.name}": ${value.error}` });
        else attributes.push({ seg: s.seg, annotator: tier.annotator, role, value });
      }
    }
  }
  // Ratings, notes, flags and times join the annotator's annotation on the segment (one without a
  // label when they have none there), after every label is in place.
  for (const { seg, annotator, role, value } of attributes) {
    let a = seg.annotations.find((x) => x.annotator === annotator);
    if (!a) seg.annotations.push((a = { annotator, label: null }));
    if (role === 'note') a.note = value as string;
    else if (role === 'annotated_at') a.annotatedAt = value as string;
    else if (role === 'unsure') a.unsure = value as boolean;
    else a[role] = value as number;
  }
  // The transcript tiers' text (words joined), else the utterance tier's own text.
  for (const s of segs) s.seg.text = s.words.length ? s.words.join(' ') : s.text;
  return { segments: segs.map((s) => s.seg), problems, notes, tiers: assigned };
}

/**
 * An attribute tier's interval as a value: a rating 1–5, a note (as written), an unsure flag
 * (unsure/true/yes/1 or false/no/0), a time (ISO 8601, as written); else the reason it is unusable.
 */
export function attributeValue(role: AttributeRole, text: string): number | string | boolean | { error: string } {
  const v = text.trim();
  switch (role) {
    case 'valence':
    case 'arousal':
    case 'dominance': {
      const n = Number(v);
      return Number.isFinite(n) && n >= 1 && n <= 5
        ? n
        : { error: `${role} ${JSON.stringify(v.slice(0, 40))} is not a number from 1 to 5` };
    }
    case 'note':
      return text;
    case 'unsure':
      if (/^(unsure|true|yes|1)$/i.test(v)) return true;
      if (/^(false|no|0)$/i.test(v)) return false;
      return { error: `unsure ${JSON.stringify(v.slice(0, 40))} is not unsure/true/yes/1 or false/no/0` };
    case 'annotated_at':
      return /^\d{4}-\d\d-\d\d/.test(v) && !Number.isNaN(Date.parse(v))
        ? v
        : { error: `annotated_at ${JSON.stringify(v.slice(0, 40))} is not a date and time (ISO 8601)` };
  }
}
