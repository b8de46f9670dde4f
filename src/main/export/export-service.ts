import { stringify } from 'csv-stringify/sync';
import path from 'node:path';
import type { ExportRequest, ExportSummary } from '../../shared/contract';
import { ExportRequest as ExportRequestSchema } from '../../shared/contract';
import { projectConsensus, type ItemConsensus } from '../agreement/consensus';
import type { DecodedAudioCache } from '../audio/decoded-audio-cache';
import { createResampler, resample, type StreamResampler } from '../audio/resampler';
import { encodeWav16, pcm16, wavHeader16 } from '../audio/wav';
import { AnnotatorsRepository } from '../db/annotators-repository';
import type { ModelRecord, PredictionScores } from '../db/models-repository';
import { StudioError } from '../errors';
import { throwIfCancelled, type JobContext } from '../jobs/job-runner';
import type { ProjectStore } from '../project/project-store';
import { APP_VERSION } from '../version';
import { CORPUS_EXPORTS, isCorpusExport } from './formats';
import { projectCorpus } from './formats/project-corpus';
import { SPLITS, splitByGroup, type SplitName } from './split';
import { StagedFolder } from './staged-folder';

export const EXPORT_SAMPLE_RATE = 16000;
/**
 * An utterance longer than this (a whole-session recording never segmented) is exported as a clip read,
 * resampled and written piece by piece: a 10-hour 48 kHz recording is 6.9 GB of float samples.
 */
export const STREAM_EXPORT_SECONDS = 600;
/** A clip this much shorter than its utterance is reported (rounding to samples is far below it). */
const SHORT_CLIP_TOLERANCE_S = 0.05;
/** What the annotator entered besides the label, and when: in every export format, after the older columns. */
const ANNOTATION_COLUMNS = [
  'valence',
  'arousal',
  'dominance',
  'note',
  // "unsure / skip" (key U): true when the annotator flagged the utterance
  'unsure',
  'annotated_at',
  // Several annotators: the final label (adjudicated, else the consensus under the project's rule),
  // votes per label and their distribution (soft label) in label_map.json's order, how many
  // annotators labelled, the share of agreeing pairs, and whether an adjudicator settled it.
  'consensus_label',
  'votes',
  'soft_label',
  'num_annotators',
  'item_agreement',
  'adjudicated',
] as const;
export const METADATA_COLUMNS = [
  'file_name',
  'label',
  'text',
  'speaker',
  'start',
  'end',
  'annotator',
  ...ANNOTATION_COLUMNS,
] as const;

/** A column list with `role` after `annotator`: an export with one row per annotator. */
const withRole = (columns: readonly string[], rowPerAnnotator: boolean): string[] =>
  rowPerAnnotator ? columns.flatMap((c) => (c === 'annotator' ? [c, 'role'] : [c])) : [...columns];

interface ExportRow {
  utteranceId: number;
  recordingPath: string;
  recordingName: string;
  recordingId: number;
  start: number;
  end: number;
  /** Null only in a row per annotator whose annotator rated, noted or flagged it without a label. */
  label: string | null;
  text: string;
  speaker: string | null;
  annotator: string;
  /** One row per annotator: their role on the roster, or `imported` (a file's label, no annotator). */
  role: 'annotator' | 'adjudicator' | 'imported' | null;
  origin: string;
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
  note: string;
  unsure: boolean;
  /** When the annotation was last changed (ISO 8601). */
  annotatedAt: string;
  consensusLabel: string | null;
  votes: number[];
  softLabel: number[];
  numAnnotators: number;
  itemAgreement: number | null;
  adjudicated: boolean;
  /** The active model's prediction, when asked for and there is one. */
  prediction: PredictionScores | null;
  split: SplitName;
}

/** The model whose predictions an export carries, and its columns. */
interface PredictionExport {
  model: ModelRecord;
  columns: string[];
  scores: Map<number, PredictionScores>;
}

/** Writes the labelled corpus in a layout training code reads directly. */
export class ExportService {
  constructor(
    private readonly store: ProjectStore,
    private readonly audio: DecodedAudioCache,
    private readonly streamExportSeconds = STREAM_EXPORT_SECONDS,
  ) {}

  async export(request: ExportRequest, ctx: JobContext): Promise<ExportSummary> {
    const req = ExportRequestSchema.parse(request);
    const folder = path.resolve(req.folder);
    // Asked for before anything is written: refused at once when there is no model to take them from.
    const predictions = req.includePredictions && !isCorpusExport(req.format) ? this.activePredictions() : null;
    // Written into a temporary sibling, fsynced and renamed into place: all or nothing.
    const staged = await StagedFolder.begin(folder, req.overwrite);

    const write = (relative: string, data: string | Buffer) => staged.write(relative, data);
    try {
      if (isCorpusExport(req.format)) {
        // Other tools' formats: the whole project (every utterance, each annotator's labels), per recording.
        const corpus = projectCorpus(this.store, req.includeImported);
        const warnings = await CORPUS_EXPORTS[req.format].write(corpus, write, folder);
        if (req.includePredictions && req.format !== 'label-studio')
          warnings.push(
            `${req.format === 'eaf' ? 'EAF' : 'TextGrid'} has no columns: the model's predictions are not written ` +
              '(CSV, JSONL, audiofolder and Label Studio carry them)',
          );
        throwIfCancelled(ctx.signal);
        const utterances = corpus.recordings.reduce((n, r) => n + r.segments.length, 0);
        await write(
          'provenance.json',
          JSON.stringify(
            {
              project: { name: this.store.name, file: this.store.file },
              exportedAt: new Date().toISOString(),
              app: { name: 'WavFusion Studio', version: APP_VERSION },
              format: req.format,
              labelSources: req.includeImported ? 'people and imported' : 'people only',
              counts: { recordings: corpus.recordings.length, utterances },
              warnings,
            },
            null,
            2,
          ),
        );
        await staged.commit();
        return { folder, format: req.format, rows: utterances, bySplit: {}, warnings, files: staged.files };
      }
      const rows = this.collectRows(
        req.includeImported,
        req.split,
        req.seed,
        predictions,
        req.keepImportedSplit,
        req.rowPerAnnotator,
      );
      const flat = (r: ExportRow) => ({
        ...flatRow(r, req.rowPerAnnotator),
        ...predictionColumns(r, predictions),
      });
      const flatColumns = [...withRole(FLAT_COLUMNS, req.rowPerAnnotator), ...(predictions?.columns ?? [])];
      if (req.format === 'audiofolder')
        await this.writeAudiofolder(rows.rows, staged, ctx, predictions, req.rowPerAnnotator, rows.warnings);
      else if (req.format === 'csv')
        await write(
          'dataset.csv',
          stringify(rows.rows.map(flat), { header: true, columns: flatColumns, cast: CSV_CAST }),
        );
      else
        await write(
          'dataset.jsonl',
          rows.rows.map((r) => JSON.stringify(flat(r))).join('\n') + (rows.rows.length ? '\n' : ''),
        );
      throwIfCancelled(ctx.signal);
      const labels = this.store.labels.list().map((l) => l.name);
      await write(
        'label_map.json',
        JSON.stringify(
          {
            labels,
            label2id: Object.fromEntries(labels.map((l, i) => [l, i])),
            id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
          },
          null,
          2,
        ),
      );
      const bySplit = Object.fromEntries(SPLITS.map((s) => [s, rows.rows.filter((r) => r.split === s).length]));
      const provenance = {
        project: { name: this.store.name, file: this.store.file },
        exportedAt: new Date().toISOString(),
        app: { name: 'WavFusion Studio', version: APP_VERSION },
        format: req.format,
        sampleRate: req.format === 'audiofolder' ? EXPORT_SAMPLE_RATE : null,
        labelSources: req.includeImported ? 'human, then imported' : 'human only',
        rows: req.rowPerAnnotator ? 'one per annotator' : 'one per utterance',
        consensus: {
          rule: rows.settings.consensusRule,
          labelsPerUtterance: rows.settings.labelsPerUtterance,
          votesAndSoftLabelOrder: labels,
          adjudicatorsVote: false,
        },
        split: {
          seed: req.seed,
          ratios: req.split,
          groupedBy: 'speaker (recording when the speaker is unknown)',
          keptFromImport: req.keepImportedSplit ? rows.keptFromImport : 0,
        },
        annotators: [...new Set(rows.rows.map((r) => r.annotator).filter((a) => a !== ''))].sort(),
        predictions: predictions && {
          model: {
            name: predictions.model.name,
            version: predictions.model.version,
            checksum: predictions.model.checksum,
            displayName: predictions.model.displayName,
          },
          labels: predictions.model.labels,
          columns: predictions.columns,
          rowsWithout: rows.rows.filter((r) => !r.prediction).length,
        },
        counts: {
          rows: rows.rows.length,
          utterances: rows.utterances,
          skippedUnlabelled: rows.skipped,
          byLabel: countBy(rows.rows, (r) => r.label ?? '(none)'),
          bySplit,
        },
        warnings: rows.warnings,
      };
      await write('provenance.json', JSON.stringify(provenance, null, 2));
      throwIfCancelled(ctx.signal);
      await staged.commit();
      return {
        folder,
        format: req.format,
        rows: rows.rows.length,
        bySplit,
        warnings: rows.warnings,
        files: staged.files,
      };
    } catch (err) {
      // The target folder is as it was: only the temporary folder held this export.
      await staged.abort();
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new StudioError(
          'internal',
          `The disk is full: export to ${folder} stopped; nothing was written there (the folder is as it was)`,
        );
      }
      throw err;
    }
  }

  /** The active model and its stored predictions; refused when there is no active model. */
  private activePredictions(): PredictionExport {
    const id = this.store.activeModelId;
    const model = id === null ? undefined : this.store.models.byId(id);
    if (!model)
      throw new StudioError(
        'conflict',
        'No active model: add or choose one (Run model…) to export its predictions, or export without them',
      );
    return {
      model,
      columns: [
        'predicted_label',
        'predicted_prob',
        ...model.labels.map((l) => `prob_${l}`),
        'model_name',
        'model_version',
      ],
      scores: this.store.models.scoresOf(model.id),
    };
  }

  private collectRows(
    includeImported: boolean,
    ratios: Record<SplitName, number>,
    seed: number,
    predictions: PredictionExport | null,
    keepImportedSplit = false,
    rowPerAnnotator = false,
  ) {
    const { store } = this;
    const labels = new Map(store.labels.list().map((l) => [l.id, l.name]));
    const recordings = new Map(store.recordings.list().map((r) => [r.id, r]));
    const chosen = store.annotations.exportable(includeImported);
    const labelOrder = store.labels.list().map((l) => l.id);
    const { settings, items } = projectConsensus(store.db);
    const base: Omit<ExportRow, 'split'>[] = [];
    for (const a of chosen) {
      const u = store.utterances.byId(a.utteranceId)!;
      const rec = recordings.get(u.recordingId)!;
      base.push({
        utteranceId: u.id,
        recordingPath: rec.path,
        recordingName: rec.fileName,
        recordingId: rec.id,
        start: u.start,
        end: u.end,
        label: labels.get(a.labelId)!,
        text: u.transcript,
        speaker: u.speaker,
        annotator: a.annotator,
        role: null,
        origin: a.origin,
        valence: a.valence,
        arousal: a.arousal,
        dominance: a.dominance,
        note: a.note,
        unsure: a.unsure,
        annotatedAt: a.updatedAt,
        ...consensusColumns(items.get(u.id), labelOrder, labels),
        prediction: predictions?.scores.get(u.id) ?? null,
      });
    }
    // The imported split, where asked for and stored; the rest go through the seeded split.
    const imported = keepImportedSplit ? store.utterances.importedSplits() : new Map<number, SplitName>();
    const toSplit = base.filter((r) => !imported.has(r.utteranceId));
    const { assignment, warnings } =
      keepImportedSplit && toSplit.length === 0
        ? { assignment: new Map<number, SplitName>(), warnings: [] as string[] }
        : splitByGroup(
            toSplit.map((r) => ({
              id: r.utteranceId,
              group: r.speaker ?? `recording:${r.recordingId}`,
              label: r.label ?? '',
            })),
            ratios,
            seed,
          );
    const keptFromImport = base.length - toSplit.length;
    if (keepImportedSplit && toSplit.length > 0)
      warnings.push(
        `${toSplit.length} of ${base.length} exported utterance(s) had no imported split: ` +
          `split by speaker with seed ${seed} instead`,
      );
    const rows = base.map((r) => ({
      ...r,
      split: imported.get(r.utteranceId) ?? assignment.get(r.utteranceId)!,
    }));
    const unpredicted = predictions ? rows.filter((r) => !r.prediction).length : 0;
    if (predictions && unpredicted > 0)
      warnings.push(
        `${unpredicted} of ${rows.length} exported utterance(s) have no prediction from ` +
          `${predictions.model.name} ${predictions.model.version}: their prediction columns are empty ` +
          '(run the model on them first)',
      );
    const skipped = store.utterances.count() - rows.length;
    const utterances = rows.length;
    if (!rowPerAnnotator) return { rows, warnings, settings, skipped, utterances, keptFromImport };
    return {
      rows: this.perAnnotator(rows, labels),
      warnings,
      settings,
      skipped,
      utterances,
      keptFromImport,
    };
  }

  /**
   * The same utterances (and so the same clips and splits) with one row per person who annotated
   * each: their label, ratings, note, flag and time, their role, the utterance's consensus columns.
   * An utterance exported with a file's imported label (no person labelled it) keeps that label as a
   * row of its own, without annotator (role `imported`), which an import reads back as the file's label.
   */
  private perAnnotator(rows: ExportRow[], labels: ReadonlyMap<number, string>): ExportRow[] {
    const roster = new AnnotatorsRepository(this.store.db);
    const byUtterance = new Map<number, ReturnType<ProjectStore['annotations']['byAnnotator']>>();
    for (const a of this.store.annotations.byAnnotator()) {
      const list = byUtterance.get(a.utteranceId);
      if (list) list.push(a);
      else byUtterance.set(a.utteranceId, [a]);
    }
    return rows.flatMap((r) => {
      const people: ExportRow[] = (byUtterance.get(r.utteranceId) ?? []).map((a) => ({
        ...r,
        label: a.labelId === null ? null : labels.get(a.labelId)!,
        annotator: a.annotator,
        role: roster.role(a.annotator),
        origin: a.origin,
        valence: a.valence,
        arousal: a.arousal,
        dominance: a.dominance,
        note: a.note,
        unsure: a.unsure,
        annotatedAt: a.updatedAt,
      }));
      return r.origin === 'human' ? people : [...people, { ...r, annotator: '', role: 'imported' as const }];
    });
  }

  /**
   * An utterance's 16 kHz 16-bit PCM, piece by piece (the same samples as the whole clip): read forward,
   * resampled by one stream resampler, `onSeconds` told how far into the utterance it is.
   */
  private async *streamedClip(
    row: ExportRow,
    ctx: JobContext,
    onSeconds: (seconds: number) => void,
  ): AsyncGenerator<Buffer> {
    let resampler: StreamResampler | null = null;
    const pieces = this.audio.monoChunks(row.recordingPath, row.start, row.end);
    try {
      let read = 0;
      for (;;) {
        throwIfCancelled(ctx.signal);
        let next;
        try {
          next = await pieces.next();
        } catch (err) {
          throw cannotRead(row, err);
        }
        if (next.done) break;
        const { samples, sampleRate } = next.value;
        if (sampleRate !== EXPORT_SAMPLE_RATE) resampler ??= await createResampler(sampleRate, EXPORT_SAMPLE_RATE);
        yield pcm16(resampler ? resampler.process(samples) : samples);
        read += samples.length;
        onSeconds(read / sampleRate);
      }
      if (resampler) yield pcm16(resampler.flush());
    } finally {
      resampler?.destroy();
      await pieces.return(undefined);
    }
  }

  private async writeAudiofolder(
    rows: ExportRow[],
    staged: Pick<StagedFolder, 'write' | 'writeStream'>,
    ctx: JobContext,
    predictions: PredictionExport | null,
    rowPerAnnotator: boolean,
    warnings: string[],
  ): Promise<void> {
    /** Recordings that gave less audio than their utterances span: name → [utterances, seconds missing]. */
    const short = new Map<string, [number, number]>();
    const check = (row: ExportRow, frames: number) => {
      const missing = row.end - row.start - frames / EXPORT_SAMPLE_RATE;
      if (missing <= SHORT_CLIP_TOLERANCE_S) return;
      const [n, s] = short.get(row.recordingPath) ?? [0, 0];
      short.set(row.recordingPath, [n + 1, s + missing]);
    };
    const metadata = new Map<SplitName, Record<string, unknown>[]>(SPLITS.map((s) => [s, []]));
    // Stable: the rows of one utterance (one per annotator) stay together, in annotator order.
    const ordered = [...rows].sort((a, b) => a.recordingId - b.recordingId || a.start - b.start);
    // Each clip is written once, whatever number of rows (annotators) it has.
    const clips = new Set<number>();
    const total = new Set(rows.map((r) => r.utteranceId)).size;
    for (const row of ordered) {
      throwIfCancelled(ctx.signal);
      const fileName = `${String(row.utteranceId).padStart(6, '0')}_${safeStem(row.recordingName)}.wav`;
      if (!clips.has(row.utteranceId)) {
        const relative = `${row.split}/${fileName}`;
        const seconds = row.end - row.start;
        if (seconds > this.streamExportSeconds) {
          const done = clips.size;
          const bodyBytes = await staged.writeStream(
            relative,
            this.streamedClip(row, ctx, (at) => ctx.progress(done + Math.min(1, at / seconds), total, fileName)),
            { bytes: 44, make: (body) => wavHeader16(body / 2, EXPORT_SAMPLE_RATE) },
          );
          check(row, bodyBytes / 2);
        } else {
          let segment;
          try {
            // decoded whole once per recording, or for a long one decoded forward clip by clip (in time order)
            segment = await this.audio.segment(row.recordingPath, row.start, row.end);
          } catch (err) {
            throw cannotRead(row, err);
          }
          const clip = await resample(segment.samples, segment.sampleRate, EXPORT_SAMPLE_RATE);
          check(row, clip.length);
          await staged.write(relative, encodeWav16(clip, EXPORT_SAMPLE_RATE));
        }
        clips.add(row.utteranceId);
        ctx.progress(clips.size, total, fileName);
      }
      metadata.get(row.split)!.push({
        file_name: fileName,
        label: row.label,
        text: row.text,
        speaker: row.speaker ?? '',
        start: round(row.start),
        end: round(row.end),
        annotator: row.annotator,
        ...(rowPerAnnotator ? { role: row.role } : {}),
        ...annotationColumns(row),
        ...predictionColumns(row, predictions),
      });
    }
    for (const [file, [n, missing]] of short)
      warnings.push(
        `${file} gave less audio than its utterances span (${n} clip(s) ${missing.toFixed(2)} s short in all): ` +
          'the file has changed or been cut short since it was imported; those clips end where the audio ends',
      );
    for (const [split, list] of metadata) {
      if (list.length === 0) continue;
      list.sort((a, b) => String(a.file_name).localeCompare(String(b.file_name)));
      await staged.write(
        `${split}/metadata.csv`,
        stringify(list, {
          header: true,
          columns: [...withRole(METADATA_COLUMNS, rowPerAnnotator), ...(predictions?.columns ?? [])],
          cast: CSV_CAST,
        }),
      );
    }
  }
}

const FLAT_COLUMNS = [
  'path',
  'start',
  'end',
  'label',
  'text',
  'speaker',
  'annotator',
  'split',
  'utterance_id',
  ...ANNOTATION_COLUMNS,
];
const flatRow = (r: ExportRow, rowPerAnnotator: boolean) => ({
  path: r.recordingPath,
  start: round(r.start),
  end: round(r.end),
  label: r.label,
  text: r.text,
  speaker: r.speaker ?? '',
  annotator: r.annotator,
  ...(rowPerAnnotator ? { role: r.role } : {}),
  split: r.split,
  utterance_id: r.utteranceId,
  ...annotationColumns(r),
});

/** Ratings are empty (CSV) or null (JSONL) when not given; the note is empty when there is none. */
const annotationColumns = (r: ExportRow) => ({
  valence: r.valence,
  arousal: r.arousal,
  dominance: r.dominance,
  note: r.note,
  unsure: r.unsure,
  annotated_at: r.annotatedAt,
  consensus_label: r.consensusLabel,
  votes: r.votes,
  soft_label: r.softLabel,
  num_annotators: r.numAnnotators,
  item_agreement: r.itemAgreement === null ? null : Math.round(r.itemAgreement * 1e6) / 1e6,
  adjudicated: r.adjudicated,
});

/**
 * The model's columns: its label and probability, every label's probability (the model's label order),
 * and which model. Empty (CSV) or null (JSONL) where it has not predicted the utterance.
 */
function predictionColumns(r: ExportRow, predictions: PredictionExport | null): Record<string, unknown> {
  if (!predictions) return {};
  const { model, columns } = predictions;
  const p = r.prediction;
  const probs = model.labels.map((_, i) => (p ? roundProb(p.probabilities[i] ?? 0) : null));
  const values = [
    p?.predictedLabel ?? null,
    p ? roundProb(p.confidence) : null,
    ...probs,
    p ? model.name : null,
    p ? model.version : null,
  ];
  return Object.fromEntries(columns.map((c, i) => [c, values[i]]));
}

const roundProb = (v: number) => Math.round(v * 1e6) / 1e6;

/** CSV cells: lists as JSON (`[0,2,1,0]`), flags as true/false. */
const CSV_CAST = {
  object: (v: object) => JSON.stringify(v),
  boolean: (v: boolean) => (v ? 'true' : 'false'),
};

/** Votes per label and their distribution in the label set's order; the final label's name. */
function consensusColumns(
  c: ItemConsensus | undefined,
  labelOrder: readonly number[],
  names: ReadonlyMap<number, string>,
): Pick<ExportRow, 'consensusLabel' | 'votes' | 'softLabel' | 'numAnnotators' | 'itemAgreement' | 'adjudicated'> {
  const votes = labelOrder.map((id) => c?.counts.get(id) ?? 0);
  const total = votes.reduce((s, v) => s + v, 0);
  return {
    consensusLabel: c?.labelId ? (names.get(c.labelId) ?? null) : null,
    votes,
    softLabel: votes.map((v) => (total ? Math.round((v / total) * 1e6) / 1e6 : 0)),
    numAnnotators: c?.labels ?? 0,
    itemAgreement: c?.agreement ?? null,
    adjudicated: c?.state === 'adjudicated',
  };
}

const round = (s: number) => Math.round(s * 1000) / 1000;

export function safeStem(fileName: string): string {
  const stem = fileName.replace(/\.[^.]+$/, '');
  return (
    stem
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 60) || 'clip'
  );
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

function cannotRead(row: ExportRow, err: unknown): StudioError {
  return new StudioError(
    'not_found',
    `Cannot read ${row.recordingPath} for utterance ${row.utteranceId}: ${(err as Error).message}`,
  );
}
