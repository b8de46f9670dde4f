/**
 * The project in the neutral corpus shape (src/main/import/formats/corpus.ts), for the exporters of
 * other tools' formats: every recording with its utterances, every annotation with a label, a rating,
 * a note or the unsure flag (a person's under their name; a file's imported one with annotator null;
 * with its note, flag and time) and every stored prediction.
 */
import type { ProjectStore } from '../../project/project-store';
import type { CorpusAnnotation, CorpusRecording, CorpusSegment } from '../../import/formats/corpus';

export interface ExportRecording extends CorpusRecording {
  media: string;
  durationS: number;
  fileName: string;
  segments: (CorpusSegment & { start: number; end: number; utteranceId: number })[];
}

export interface ProjectCorpus {
  name: string;
  labels: string[];
  recordings: ExportRecording[];
}

/** One format on the export side: writes the corpus through `write` (into the staged export folder). */
export interface CorpusExportFormat {
  name: 'textgrid' | 'eaf' | 'label-studio';
  /** Writes the files (`target`: the export folder they end up in); answers the warnings. */
  write(
    corpus: ProjectCorpus,
    write: (relative: string, data: string | Buffer) => Promise<void>,
    target: string,
  ): Promise<string[]>;
}

export function projectCorpus(store: ProjectStore, includeImported: boolean): ProjectCorpus {
  const labels = new Map(store.labels.list().map((l) => [l.id, l.name]));
  const recordings = new Map<number, ExportRecording>();
  for (const r of store.recordings.list()) {
    recordings.set(r.id, { media: r.path, durationS: r.durationS, fileName: r.fileName, segments: [] });
  }
  const byId = new Map<number, ExportRecording['segments'][number]>();
  const utterances = store.db
    .prepare<
      [],
      { id: number; recordingId: number; start: number; end: number; speaker: string | null; transcript: string }
    >(
      `SELECT id, recording_id AS recordingId, start_s AS start, end_s AS "end", speaker, transcript
       FROM utterances ORDER BY recording_id, start_s, end_s, id`,
    )
    .all();
  for (const u of utterances) {
    const seg = {
      utteranceId: u.id,
      start: u.start,
      end: u.end,
      text: u.transcript,
      speaker: u.speaker,
      annotations: [],
      predictions: [],
      origin: `utterance ${u.id}`,
    };
    byId.set(u.id, seg);
    recordings.get(u.recordingId)?.segments.push(seg);
  }
  const annotations = store.db
    .prepare<
      [],
      {
        utteranceId: number;
        origin: 'human' | 'import';
        annotator: string;
        labelId: number | null;
        valence: number | null;
        arousal: number | null;
        dominance: number | null;
        note: string;
        unsure: number;
        updatedAt: string;
      }
    >(
      `SELECT utterance_id AS utteranceId, origin, annotator, label_id AS labelId, valence, arousal, dominance,
              note, unsure, updated_at AS updatedAt
       FROM annotations
       WHERE label_id IS NOT NULL OR valence IS NOT NULL OR arousal IS NOT NULL OR dominance IS NOT NULL
          OR note <> '' OR unsure <> 0
       ORDER BY utterance_id, origin, annotator`,
    )
    .all();
  for (const a of annotations) {
    if (a.origin === 'import' && !includeImported) continue;
    byId.get(a.utteranceId)?.annotations.push({
      annotator: a.origin === 'human' ? a.annotator : null,
      label: a.labelId === null ? null : (labels.get(a.labelId) ?? null),
      valence: a.valence,
      arousal: a.arousal,
      dominance: a.dominance,
      note: a.note,
      unsure: a.unsure !== 0,
      annotatedAt: a.updatedAt,
    });
  }
  const predictions = store.db
    .prepare<[], { utteranceId: number; name: string; version: string; label: string; confidence: number }>(
      `SELECT p.utterance_id AS utteranceId, m.name, m.version, p.predicted_label AS label, p.confidence
       FROM predictions p JOIN models m ON m.id = p.model_id ORDER BY p.utterance_id, m.id`,
    )
    .all();
  for (const p of predictions) {
    byId.get(p.utteranceId)?.predictions.push({
      modelVersion: `${p.name} ${p.version}`,
      label: p.label,
      score: p.confidence,
    });
  }
  return {
    name: store.name,
    labels: store.labels.list().map((l) => l.name),
    recordings: [...recordings.values()].filter((r) => r.segments.length > 0),
  };
}

/** Distinct annotators of a recording's labels, people first (by name), then the file's own (null). */
export function annotatorsOf(recording: ExportRecording): (string | null)[] {
  const names = new Set<string | null>();
  for (const s of recording.segments) for (const a of s.annotations) names.add(a.annotator);
  return [...names].sort((a, b) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
}

/**
 * Lays utterances out on non-overlapping layers (an interval tier cannot hold overlaps): the first
 * layer takes what fits, overlapping utterances go to the next.
 */
export function layers<T extends { start: number; end: number }>(segments: T[]): T[][] {
  const out: T[][] = [];
  for (const s of [...segments].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const layer = out.find((l) => l[l.length - 1]!.end <= s.start + 1e-9);
    if (layer) layer.push(s);
    else out.push([s]);
  }
  return out;
}

/** A file name for a recording's export, unique within the export. */
export function uniqueStem(fileName: string, taken: Set<string>): string {
  const stem =
    fileName
      .replace(/\.[^.]+$/, '')
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'recording';
  let candidate = stem;
  for (let i = 2; taken.has(candidate.toLowerCase()); i++) candidate = `${stem}_${i}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/** What an annotator entered besides the label, as the TextGrid/EAF exports write it (one tier each). */
export const ANNOTATION_EXTRAS = ['valence', 'arousal', 'dominance', 'note', 'unsure'] as const;

/** An annotation's extra as tier text: a rating as a number, the note as written, "unsure"; null: none. */
export function extraText(a: CorpusAnnotation, extra: (typeof ANNOTATION_EXTRAS)[number]): string | null {
  if (extra === 'note') return a.note ? a.note : null;
  if (extra === 'unsure') return a.unsure ? 'unsure' : null;
  const v = a[extra];
  return v === null || v === undefined ? null : String(v);
}

/**
 * The extra tiers an annotator gets in a recording: those with a value on some utterance, then
 * `annotated_at` (each annotation's time) whenever there is any; none when the annotator entered
 * nothing besides labels there (those exports stay as they were).
 */
export function extraTiersOf(
  recording: ExportRecording,
  who: string | null,
): ((typeof ANNOTATION_EXTRAS)[number] | 'annotated_at')[] {
  const mine = recording.segments.flatMap((s) => s.annotations.filter((a) => a.annotator === who));
  const extras: ((typeof ANNOTATION_EXTRAS)[number] | 'annotated_at')[] = ANNOTATION_EXTRAS.filter((e) =>
    mine.some((a) => extraText(a, e) !== null),
  );
  if (extras.length) extras.push('annotated_at');
  return extras;
}

/** Whether an annotator labelled anything in a recording (else they get no `emotion` tier). */
export const labelsAnything = (recording: ExportRecording, who: string | null) =>
  recording.segments.some((s) => s.annotations.some((a) => a.annotator === who && a.label));
