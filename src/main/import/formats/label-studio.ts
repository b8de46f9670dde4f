/**
 * Label Studio JSON export (a list of tasks): `data.audio` is the recording; each annotation's
 * results (`labels`, `textarea`, `choices`) give regions with start/end, labels and transcripts;
 * `completed_by` (or `created_username`) is the annotator; `rating` results named valence, arousal
 * or dominance (1–5), a `note` text area and an `unsure` choice are that annotator's ratings, note and
 * flag on the region; `updated_at` (else `created_at`) is when each of their annotations was made;
 * `predictions` keep their `model_version` and scores. Regions are grouped by their boundaries (within 1 ms) into segments.
 */
import { AUDIO_EXTENSIONS } from '../../audio/decode';
import path from 'node:path';
import { z } from 'zod';
import { StudioError } from '../../errors';
import {
  readText,
  resolveMedia,
  type Corpus,
  type CorpusAnnotation,
  type CorpusProblem,
  type CorpusRecording,
  type CorpusSegment,
  type ImportFormat,
} from './corpus';

const Value = z
  .object({
    start: z.number().optional(),
    end: z.number().optional(),
    labels: z.array(z.string()).optional(),
    choices: z.array(z.string()).optional(),
    text: z.union([z.array(z.string()), z.string()]).optional(),
    /** A `rating` result's stars; checked where it is read (a bad one is reported, not a bad task). */
    rating: z.unknown().optional(),
  })
  .loose();
const Result = z
  .object({
    type: z.string().optional(),
    from_name: z.string().optional(),
    value: Value,
    score: z.number().nullish(),
  })
  .loose();
const User = z.union([
  z.number(),
  z.string(),
  z.object({ id: z.number().optional(), email: z.string().optional(), username: z.string().optional() }).loose(),
]);
const Annotation = z
  .object({
    completed_by: User.nullish(),
    created_username: z.string().nullish(),
    created_at: z.string().nullish(),
    updated_at: z.string().nullish(),
    was_cancelled: z.boolean().nullish(),
    result: z.array(Result).default([]),
  })
  .loose();
const PredictionSchema = z
  .object({
    model_version: z.union([z.string(), z.number()]).nullish(),
    score: z.number().nullish(),
    result: z.array(Result).default([]),
  })
  .loose();
const Task = z
  .object({
    id: z.union([z.number(), z.string()]).optional(),
    data: z.record(z.string(), z.unknown()),
    annotations: z.array(Annotation).default([]),
    predictions: z.array(PredictionSchema).default([]),
  })
  .loose();

const AUDIO = new RegExp(`\\.(${AUDIO_EXTENSIONS.map((e) => e.slice(1)).join('|')})(\\?|$)`, 'i');

/** The audio a task names: data.audio (or the first value that looks like an audio file). */
function audioReference(data: Record<string, unknown>): string | null {
  for (const key of ['audio', 'wav', 'url', 'file']) if (typeof data[key] === 'string') return data[key];
  const found = Object.values(data).find((v) => typeof v === 'string' && AUDIO.test(v));
  return typeof found === 'string' ? found : null;
}

/**
 * Label Studio's references: `/data/local-files/?d=sub/x.wav` (local storage: relative to the JSON
 * file), `/data/upload/3/1a2b3c4d-x.wav` (uploads get a hash prefix), file paths and URLs.
 */
function resolveTaskMedia(ref: string, referrer: string): string | null {
  const local = /[?&]d=([^&]+)/.exec(ref);
  if (ref.includes('/data/local-files/') && local) {
    const rel = decodeURIComponent(local[1]!);
    return resolveMedia(rel, referrer, false) ?? resolveMedia(rel, referrer, true);
  }
  const direct = resolveMedia(ref, referrer, false) ?? resolveMedia(ref, referrer, true);
  if (direct) return direct;
  const base = path.basename(ref.split('?')[0]!);
  const unhashed = base.replace(/^[0-9a-f]{8}-/, '');
  return unhashed !== base ? resolveMedia(unhashed, referrer, true) : null;
}

function annotatorOf(a: z.infer<typeof Annotation>): string | null {
  // created_username is "email, id" in Label Studio's export.
  const named = a.created_username?.replace(/,\s*\d+\s*$/, '').trim();
  if (named) return named;
  const by = a.completed_by;
  if (by === null || by === undefined) return null;
  if (typeof by === 'number') return `user ${by}`;
  if (typeof by === 'string') return by.trim() || null;
  return by.email?.trim() || by.username?.trim() || (by.id !== undefined ? `user ${by.id}` : null);
}

const isSpeaker = (fromName: string | undefined) => /speaker|spk/i.test(fromName ?? '');

const DIMENSIONS = ['valence', 'arousal', 'dominance'] as const;
/** Our export's per-region extras: a rating named after its dimension, the `note` text area, the `unsure` choice. */
const dimensionOf = (fromName: string | undefined) =>
  DIMENSIONS.find((d) => d === (fromName ?? '').trim().toLowerCase()) ?? null;

/** The annotation's time: `updated_at`, else `created_at`, when it is a date and time. */
function timeOf(a: z.infer<typeof Annotation>): string | undefined {
  for (const at of [a.updated_at, a.created_at])
    if (at && /^\d{4}-\d\d-\d\d/.test(at) && !Number.isNaN(Date.parse(at))) return at;
  return undefined;
}

export const labelStudioFormat: ImportFormat = {
  name: 'label-studio',
  detect(file, head, isDirectory) {
    if (isDirectory || path.extname(file).toLowerCase() !== '.json' || !head) return false;
    return (
      /^\s*[[{]/.test(head) && /"data"\s*:/.test(head) && /"(annotations|predictions)"\s*:|"data"\s*:\s*\{/.test(head)
    );
  },
  read(file: string): Corpus {
    const name = path.basename(file);
    let json: unknown;
    try {
      json = JSON.parse(readText(file));
    } catch (err) {
      if (err instanceof SyntaxError)
        return { recordings: [], problems: [{ file: name, line: null, reason: 'not valid JSON' }], notes: [] };
      throw new StudioError('not_found', `Cannot read ${file}: ${(err as Error).message}`);
    }
    const tasks = Array.isArray(json) ? json : [json];
    const problems: CorpusProblem[] = [];
    const byMedia = new Map<string, CorpusRecording>();
    const seenIds = new Set<string>();
    let predictions = 0;
    tasks.forEach((raw, index) => {
      const where = `task ${index + 1}`;
      const parsed = Task.safeParse(raw);
      if (!parsed.success) {
        problems.push({
          file: name,
          line: null,
          reason: `${where}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'task'}: ${i.message}`).join('; ')}`,
        });
        return;
      }
      const task = parsed.data;
      const label = task.id !== undefined ? `task ${task.id}` : where;
      if (task.id !== undefined) {
        if (seenIds.has(String(task.id))) {
          problems.push({ file: name, line: null, reason: `${label}: duplicate task id, left out` });
          return;
        }
        seenIds.add(String(task.id));
      }
      const ref = audioReference(task.data);
      if (!ref) {
        problems.push({ file: name, line: null, reason: `${label}: no audio in its data` });
        return;
      }
      const media = resolveTaskMedia(ref, file);
      if (!media) {
        problems.push({
          file: name,
          line: null,
          reason: /^https?:/i.test(ref)
            ? `${label}: audio is a URL (${ref.slice(0, 120)}) and no file of that name is beside ${name}; not downloaded`
            : `${label}: audio not found: ${ref.slice(0, 200)}`,
        });
        return;
      }
      const recording = byMedia.get(media) ?? { media, segments: [] };
      byMedia.set(media, recording);
      const segmentAt = (start: number | null, end: number | null): CorpusSegment => {
        const found = recording.segments.find(
          (s) =>
            (s.start === null) === (start === null) &&
            (start === null || (Math.abs(s.start! - start) < 1e-3 && Math.abs(s.end! - end!) < 1e-3)),
        );
        if (found) return found;
        const seg: CorpusSegment = {
          start,
          end,
          text: '',
          speaker: null,
          annotations: [],
          predictions: [],
          origin: `${name} ${label}`,
        };
        recording.segments.push(seg);
        return seg;
      };
      const region = (r: z.infer<typeof Result>, who: string): CorpusSegment | null => {
        const { start, end } = r.value;
        if (start === undefined && end === undefined) return segmentAt(null, null);
        if (start === undefined || end === undefined || !(end > start) || start < 0) {
          problems.push({
            file: name,
            line: null,
            reason: `${label} (${who}): region ${start}–${end} s is not a time span`,
          });
          return null;
        }
        return segmentAt(start, end);
      };
      const wholeText = typeof task.data.text === 'string' ? task.data.text : '';
      task.annotations.forEach((a, ai) => {
        if (a.was_cancelled) return;
        const annotator = annotatorOf(a);
        const who = `annotation ${ai + 1}${annotator ? ` by ${annotator}` : ''}`;
        const at = timeOf(a);
        const touched = new Set<CorpusAnnotation>();
        // This annotator's annotation on a segment (ratings and notes join the label's).
        const own = (seg: CorpusSegment): CorpusAnnotation => {
          let found = seg.annotations.find((x) => x.annotator === annotator && touched.has(x));
          if (!found) {
            found = { annotator, label: null, ...(at ? { annotatedAt: at } : {}) };
            seg.annotations.push(found);
            touched.add(found);
          }
          return found;
        };
        for (const r of a.result) {
          const names = r.value.labels ?? r.value.choices;
          const text = r.value.text;
          const dimension = dimensionOf(r.from_name);
          const from = (r.from_name ?? '').trim().toLowerCase();
          if (dimension && (r.type === 'rating' || r.value.rating !== undefined)) {
            const rating = r.value.rating;
            if (typeof rating !== 'number' || !Number.isFinite(rating) || rating < 1 || rating > 5) {
              problems.push({
                file: name,
                line: null,
                reason: `${label} (${who}): ${dimension} rating ${String(JSON.stringify(rating ?? null)).slice(0, 40)} is not a number from 1 to 5, left out`,
              });
              continue;
            }
            const seg = region(r, who);
            if (seg) own(seg)[dimension] = rating;
            continue;
          }
          if (from === 'note' && text !== undefined) {
            const seg = region(r, who);
            const note = Array.isArray(text) ? text.join('\n') : text;
            if (seg && note) own(seg).note = note;
            continue;
          }
          if (from === 'unsure' && names) {
            const seg = region(r, who);
            if (seg) own(seg).unsure = names.length > 0;
            continue;
          }
          if (!names && text === undefined) continue;
          const seg = region(r, who);
          if (!seg) continue;
          if (text !== undefined) seg.text ||= (Array.isArray(text) ? text.join(' ') : text).trim();
          if (names && isSpeaker(r.from_name)) seg.speaker = names[0] ?? seg.speaker;
          else if (names) {
            if (names.length > 1)
              problems.push({
                file: name,
                line: null,
                reason: `${label} (${who}): ${names.length} labels on one region, the first kept`,
              });
            if (names[0]) {
              const mine = own(seg);
              if (mine.label === null) mine.label = names[0];
              else {
                const another: CorpusAnnotation = { annotator, label: names[0], ...(at ? { annotatedAt: at } : {}) };
                seg.annotations.push(another);
              }
            }
          }
        }
      });
      for (const p of task.predictions) {
        const version =
          p.model_version === null || p.model_version === undefined ? 'label-studio' : String(p.model_version);
        for (const r of p.result) {
          const names = r.value.labels ?? r.value.choices;
          if (!names?.[0] || isSpeaker(r.from_name)) continue;
          const seg = region(r, `prediction ${version}`);
          if (!seg) continue;
          seg.predictions.push({ modelVersion: version, label: names[0], score: r.score ?? p.score ?? null });
          predictions++;
        }
      }
      if (wholeText) for (const s of recording.segments) if (s.start === null) s.text ||= wholeText;
      if (recording.segments.length === 0) segmentAt(null, null).text = wholeText;
    });
    const notes = [`${name}: ${tasks.length} task(s), ${predictions} prediction(s)`];
    return { recordings: [...byMedia.values()], problems, notes };
  },
};
