import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImportPreview, ImportReport } from '../../shared/contract';
import { AudioFileError, isAudioPath } from '../audio/decode';
import { AnnotatorsRepository } from '../db/annotators-repository';
import { colourFor, normaliseLabelName } from '../db/labels-repository';
import type { NewRecording } from '../db/recordings-repository';
import type { StoredSplit } from '../db/utterances-repository';
import { StudioError, describeError } from '../errors';
import type { StudioEvents } from '../events';
import { throwIfCancelled, type JobContext } from '../jobs/job-runner';
import type { ProjectStore } from '../project/project-store';
import { scanFolder } from './folder';
import type { CorpusPrediction, ImportFormatName, ImportOptions } from './formats/corpus';
import { problemPath } from './formats/corpus';
import { detectFormat, formatByName, previewCorpus, readCorpus, type CorpusPreview } from './formats';
import { isManifestPath, readManifest, type ManifestRow } from './manifest';
import { analyseRecording } from './recording-analysis';

export const PEAKS_PER_SECOND = 100;

interface Segment {
  start: number | null;
  end: number | null;
  text: string;
  speaker: string | null;
  label: string | null;
  /** A manifest's `annotator` column: the label is that person's annotation, not the manifest's. */
  annotator?: string | null;
  /** Where the segment came from, for the report: "manifest.csv:12" or the file path. */
  origin: string;
  /** The file a label without annotator came from (its imported labels' source); else the import's. */
  source?: string;
  /** A corpus file's model predictions for the segment (Label Studio). */
  predictions?: CorpusPrediction[];
  /** What a corpus file gives besides the label (IEMOCAP's V/A/D, audiofolder's note and time). */
  valence?: number | null;
  arousal?: number | null;
  dominance?: number | null;
  note?: string;
  annotatedAt?: string;
  /** The annotator's "unsure / skip" flag, where the corpus file carries it (our TextGrid/EAF exports). */
  unsure?: boolean;
  /** The split the corpus put it in (MELD, audiofolder), stored with the utterance. */
  split?: StoredSplit | null;
}

/** What to read a path as: a named format (else recognised from the content) and the tiers' roles. */
export interface ImportPathOptions extends ImportOptions {
  format?: ImportFormatName;
}

/** Imports folders and manifests: audio is referenced, not copied; every failure is reported by name. */
export class ImportService {
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents,
  ) {}

  /**
   * What importing `source` would read, before anything is written: the corpus format, counts, the
   * notes (label mapping, tier roles), the number of unusable rows and the tiers' roles; null for
   * folders, manifests and audio files, which the plain import reads, and for a path that is not there.
   */
  async preview(source: string, options: ImportPathOptions = {}): Promise<CorpusPreview | null> {
    const resolved = path.resolve(source);
    try {
      await fs.stat(resolved);
    } catch {
      return null;
    }
    return previewCorpus(resolved, options);
  }

  /** The Import dialog's preview: as `preview`, but a missing path is an error and a plain import is said. */
  async previewImport(source: string, options: ImportPathOptions = {}): Promise<ImportPreview> {
    const resolved = path.resolve(source);
    let stat;
    try {
      stat = await fs.stat(resolved);
    } catch {
      throw new StudioError('not_found', `Nothing to import at ${resolved}: no such file or folder`);
    }
    if (options.format && !['csv', 'jsonl'].includes(options.format) && !formatByName(options.format))
      throw new StudioError('unsupported', `The ${options.format} format cannot be imported yet`);
    const corpus = await previewCorpus(resolved, options);
    if (corpus) return { path: resolved, ...corpus };
    const plain = stat.isDirectory()
      ? 'A folder of audio files: each file one utterance (transcripts from same-name .txt/.lab files, speakers from sub-folders)'
      : isManifestPath(resolved) || options.format
        ? 'A manifest: one utterance per row (path, text, speaker, label, start, end)'
        : isAudioPath(resolved)
          ? 'One audio file: one utterance'
          : `Not a format the import reads: ${path.basename(resolved)}`;
    return { path: resolved, format: null, lines: [plain], tiers: [] };
  }

  /**
   * Imports a folder, a manifest or one file. Whatever was committed is announced once at the end
   * (even when the import stopped early): the new utterances, and the labels a manifest added.
   */
  async importPath(source: string, ctx: JobContext, options: ImportPathOptions = {}): Promise<ImportReport> {
    const report: ImportReport = {
      source: path.resolve(source),
      recordingsAdded: 0,
      recordingsReused: 0,
      utterancesAdded: 0,
      annotationsAdded: 0,
      labelsAdded: [],
      failures: [],
      cancelled: false,
    };
    try {
      return await this.importInto(report, ctx, options);
    } finally {
      if (report.labelsAdded.length > 0) this.events.emit('labelsChanged', this.store.labels.list());
      if (report.utterancesAdded > 0 || report.annotationsAdded > 0) {
        this.events.emit('utterancesChanged', { change: 'added', count: report.utterancesAdded });
      }
    }
  }

  private async importInto(report: ImportReport, ctx: JobContext, options: ImportPathOptions): Promise<ImportReport> {
    const { store } = this;
    const resolved = report.source;
    let stat;
    try {
      stat = await fs.stat(resolved);
    } catch {
      throw new StudioError('not_found', `Nothing to import at ${resolved}: no such file or folder`);
    }
    const byFile = new Map<string, Segment[]>();
    let annotationSource = '';
    const named = options.format && !['csv', 'jsonl'].includes(options.format) ? formatByName(options.format) : null;
    if (options.format && !named && !['csv', 'jsonl'].includes(options.format))
      throw new StudioError('unsupported', `The ${options.format} format cannot be imported yet`);
    const corpusFormat = options.format ? named : detectFormat(resolved, stat.isDirectory());
    if (corpusFormat) {
      report.format = corpusFormat.name;
      const corpus = await readCorpus(corpusFormat, resolved, stat.isDirectory(), options);
      report.notes = corpus.notes;
      for (const p of corpus.problems) report.failures.push({ path: problemPath(p), reason: p.reason });
      const fileSource = path.basename(resolved);
      for (const rec of corpus.recordings) {
        if (!rec.media) continue;
        const list = byFile.get(rec.media) ?? [];
        for (const seg of rec.segments) {
          const base = {
            start: seg.start,
            end: seg.end,
            text: seg.text,
            speaker: seg.speaker,
            origin: seg.origin,
            source: fileSource,
            split: seg.split ?? null,
          };
          // An annotation without a label still counts when it carries ratings or a note (IEMOCAP's "xxx").
          const labelled = seg.annotations.filter(
            (a) => a.label || a.note || a.unsure || [a.valence, a.arousal, a.dominance].some((v) => v != null),
          );
          if (labelled.length === 0) list.push({ ...base, label: null, predictions: seg.predictions });
          labelled.forEach((a, i) =>
            list.push({
              ...base,
              label: a.label,
              annotator: a.annotator,
              predictions: i === 0 ? seg.predictions : [],
              valence: a.valence ?? null,
              arousal: a.arousal ?? null,
              dominance: a.dominance ?? null,
              note: a.note ?? '',
              annotatedAt: a.annotatedAt,
              unsure: a.unsure ?? false,
            }),
          );
        }
        byFile.set(rec.media, list);
      }
    } else if (stat.isDirectory()) {
      const scan = await scanFolder(resolved);
      report.failures.push(...scan.problems);
      for (const item of scan.items) {
        byFile.set(item.path, [
          { start: null, end: null, text: item.transcript, speaker: item.speaker, label: null, origin: item.path },
        ]);
      }
    } else if (isManifestPath(resolved) || options.format) {
      annotationSource = path.basename(resolved);
      const { rows, problems } = readManifest(resolved);
      for (const p of problems) report.failures.push({ path: `${annotationSource}:${p.line}`, reason: p.reason });
      for (const row of rows) {
        const list = byFile.get(row.path) ?? [];
        list.push(segmentOf(row, annotationSource));
        byFile.set(row.path, list);
      }
    } else if (isAudioPath(resolved)) {
      byFile.set(resolved, [{ start: null, end: null, text: '', speaker: null, label: null, origin: resolved }]);
    } else {
      throw new StudioError(
        'invalid_request',
        `Cannot import ${path.basename(resolved)}: choose a folder, a .csv or .jsonl manifest, or an audio file`,
      );
    }

    const files = [...byFile.keys()];
    let done = 0;
    ctx.progress(0, files.length, `Importing ${files.length} files`);
    for (const file of files) {
      if (ctx.signal.aborted) {
        report.cancelled = true;
        break;
      }
      try {
        await this.importFile(file, byFile.get(file)!, annotationSource, report);
      } catch (err) {
        const reason = err instanceof AudioFileError ? err.message : describeError(err);
        report.failures.push({ path: file, reason });
        const code = (err as { code?: string }).code;
        if (code === 'ENOSPC' || code === 'SQLITE_FULL') {
          // Every later file would fail the same way: stop, and say exactly what was committed.
          throw new StudioError(
            'internal',
            `The project's disk is full (${store.file}): import stopped at file ${done + 1} of ${files.length}. ` +
              `Committed: ${report.recordingsAdded} recordings and ${report.utterancesAdded} utterances added, ` +
              `${report.recordingsReused} reused; ${report.failures.length} failure(s). ` +
              'Free some space and import again to add the rest (files already imported are reused).',
          );
        }
      }
      done++;
      ctx.progress(done, files.length, path.basename(file));
      // Let requests (and cancel) through between files.
      await new Promise((resolve) => setImmediate(resolve));
    }
    throwIfCancelled(ctx.signal);
    return report;
  }

  /**
   * One file: decoded outside the transaction, then written in one IMMEDIATE transaction that checks
   * again whether the file is there (another import may have added it meanwhile: then it is reused).
   * The report counts what committed: its counters change only after the commit.
   */
  private async importFile(file: string, segments: Segment[], source: string, report: ImportReport): Promise<void> {
    const { store } = this;
    const existing = store.recordings.byPath(file);
    let newRecording: NewRecording | null = null;
    if (!existing) {
      // decoded whole, or for a long file streamed: bytes hashed as read, peaks as decoded
      const audio = await analyseRecording(file, PEAKS_PER_SECOND);
      const stat = await fs.stat(file);
      newRecording = {
        path: file,
        fileName: path.basename(file),
        sizeBytes: stat.size,
        checksum: audio.checksum,
        format: audio.format,
        durationS: audio.durationS,
        sampleRate: audio.sampleRate,
        channels: audio.channels,
        peaksPerSecond: PEAKS_PER_SECOND,
        peaks: audio.peaks,
      };
    }
    // One commit per file: the recording and its utterances and labels land together.
    const delta = {
      recordingsAdded: 0,
      recordingsReused: 0,
      utterancesAdded: 0,
      annotationsAdded: 0,
      predictionsAdded: 0,
    };
    const labelsAdded: string[] = [];
    const failures: ImportReport['failures'] = [];
    store.transaction(() => {
      const current = store.recordings.byPath(file);
      let recordingId: number;
      let duration: number;
      if (current) {
        recordingId = current.id;
        duration = current.durationS;
        delta.recordingsReused++;
      } else {
        recordingId = store.recordings.insert(newRecording!);
        duration = newRecording!.durationS;
        delta.recordingsAdded++;
      }
      for (const seg of segments) {
        const start = seg.start ?? 0;
        const end = seg.end ?? duration;
        if (start >= duration) {
          failures.push({
            path: seg.origin,
            reason: `start ${start} s is past the end of ${path.basename(file)} (${duration.toFixed(2)} s)`,
          });
          continue;
        }
        if (end > duration + 0.05) {
          failures.push({
            path: seg.origin,
            reason: `end ${end} s is past the end of ${path.basename(file)} (${duration.toFixed(2)} s)`,
          });
          continue;
        }
        const clippedEnd = Math.min(end, duration);
        let utterance = store.utterances.find(recordingId, start, clippedEnd);
        if (!utterance) {
          const id = store.utterances.insert({
            recordingId,
            start,
            end: clippedEnd,
            speaker: seg.speaker,
            transcript: seg.text,
            split: seg.split ?? null,
          });
          utterance = { id, recordingId, start, end: clippedEnd, speaker: seg.speaker, transcript: seg.text };
          delta.utterancesAdded++;
        } else if ((!utterance.transcript && seg.text) || (!utterance.speaker && seg.speaker)) {
          store.utterances.updateText(utterance.id, utterance.speaker ?? seg.speaker, utterance.transcript || seg.text);
        }
        if (seg.split) store.utterances.setSplitIfNone(utterance.id, seg.split);
        for (const p of seg.predictions ?? []) {
          storePrediction(store, utterance.id, p);
          delta.predictionsAdded++;
        }
        const rated = !!seg.note || !!seg.unsure || [seg.valence, seg.arousal, seg.dominance].some((v) => v != null);
        if (seg.label || rated) {
          let label: { id: number } | null = null;
          if (seg.label) {
            let name: string;
            try {
              name = normaliseLabelName(seg.label);
            } catch (err) {
              failures.push({ path: seg.origin, reason: `label not imported: ${(err as Error).message}` });
              continue;
            }
            let found = store.labels.byFoldedName(name);
            if (!found) {
              found = store.labels.insert(name, colourFor(name), store.labels.freeHotkey());
              labelsAdded.push(found.name);
            }
            label = found;
          }
          const at = seg.annotatedAt ?? new Date().toISOString();
          // One row per utterance and annotator: each becomes that annotator's own annotation.
          if (seg.annotator) new AnnotatorsRepository(store.db).ensure(seg.annotator, at);
          store.annotations.put(
            utterance.id,
            seg.annotator ? 'human' : 'import',
            seg.annotator ?? seg.source ?? source,
            {
              labelId: label?.id ?? null,
              valence: seg.valence ?? null,
              arousal: seg.arousal ?? null,
              dominance: seg.dominance ?? null,
              note: seg.note ?? '',
              unsure: seg.unsure ?? false,
            },
            at,
          );
          delta.annotationsAdded++;
        }
      }
    });
    report.recordingsAdded += delta.recordingsAdded;
    report.recordingsReused += delta.recordingsReused;
    report.utterancesAdded += delta.utterancesAdded;
    report.annotationsAdded += delta.annotationsAdded;
    if (delta.predictionsAdded) report.predictionsAdded = (report.predictionsAdded ?? 0) + delta.predictionsAdded;
    report.labelsAdded.push(...labelsAdded);
    report.failures.push(...failures);
  }
}

/**
 * A model's prediction from a corpus file, stored as that model version's prediction (model
 * "Label Studio", its version). The file gives one score for the predicted label; the model's other
 * labels share the rest evenly. Its labels are the project's labels at the first import of that version.
 */
function storePrediction(store: ProjectStore, utteranceId: number, p: CorpusPrediction): void {
  const names = store.labels.list().map((l) => l.name);
  if (!names.includes(p.label)) names.push(p.label);
  const modelId = store.models.register('label-studio', 'Label Studio', p.modelVersion, 'label-studio', names);
  const labels = store.models.byId(modelId)!.labels;
  if (!labels.includes(p.label)) return;
  const score = p.score === null ? 1 : Math.min(1, Math.max(0, p.score));
  const rest = labels.length > 1 ? (1 - score) / (labels.length - 1) : 0;
  const probabilities = labels.map((l) => (l === p.label ? score : rest));
  const entropy = -probabilities.reduce((sum, q) => (q > 0 ? sum + q * Math.log(q) : sum), 0);
  store.models.putPrediction({
    utteranceId,
    modelId,
    probabilities,
    predictedLabel: p.label,
    confidence: score,
    entropy,
    textGate: 0,
    textUsed: false,
    windows: 0,
    embedding: new Float32Array(0),
    createdAt: new Date().toISOString(),
  });
}

function segmentOf(row: ManifestRow, source: string): Segment {
  return {
    start: row.start,
    end: row.end,
    text: row.text,
    speaker: row.speaker,
    label: row.label,
    annotator: row.annotator,
    origin: `${source}:${row.line}`,
    split: row.split,
  };
}
