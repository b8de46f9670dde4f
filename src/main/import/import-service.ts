import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ImportReport } from '../../shared/contract';
import { AudioFileError, decodeAudioFile, isAudioPath } from '../audio/decode';
import { computePeaks } from '../audio/signal';
import { colourFor } from '../db/labels-repository';
import type { NewRecording } from '../db/recordings-repository';
import { StudioError, describeError } from '../errors';
import { throwIfCancelled, type JobContext } from '../jobs/job-runner';
import type { ProjectStore } from '../project/project-store';
import { scanFolder } from './folder';
import { isManifestPath, readManifest, type ManifestRow } from './manifest';

export const PEAKS_PER_SECOND = 100;

interface Segment {
  start: number | null;
  end: number | null;
  text: string;
  speaker: string | null;
  label: string | null;
  /** Where the segment came from, for the report: "manifest.csv:12" or the file path. */
  origin: string;
}

/** Imports folders and manifests: audio is referenced, not copied; every failure is reported by name. */
export class ImportService {
  constructor(private readonly store: ProjectStore) {}

  async importPath(source: string, ctx: JobContext): Promise<ImportReport> {
    const resolved = path.resolve(source);
    let stat;
    try {
      stat = await fs.stat(resolved);
    } catch {
      throw new StudioError('not_found', `Nothing to import at ${resolved}: no such file or folder`);
    }
    const report: ImportReport = {
      source: resolved,
      recordingsAdded: 0,
      recordingsReused: 0,
      utterancesAdded: 0,
      annotationsAdded: 0,
      labelsAdded: [],
      failures: [],
      cancelled: false,
    };
    const byFile = new Map<string, Segment[]>();
    let annotationSource = '';
    if (stat.isDirectory()) {
      for (const item of await scanFolder(resolved)) {
        byFile.set(item.path, [
          { start: null, end: null, text: item.transcript, speaker: item.speaker, label: null, origin: item.path },
        ]);
      }
    } else if (isManifestPath(resolved)) {
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
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw err;
      }
      done++;
      ctx.progress(done, files.length, path.basename(file));
      // Let requests (and cancel) through between files.
      await new Promise((resolve) => setImmediate(resolve));
    }
    throwIfCancelled(ctx.signal);
    return report;
  }

  private async importFile(file: string, segments: Segment[], source: string, report: ImportReport): Promise<void> {
    const { store } = this;
    const existing = store.recordings.byPath(file);
    let duration: number;
    let newRecording: NewRecording | null = null;
    if (existing) {
      duration = existing.durationS;
      report.recordingsReused++;
    } else {
      const audio = await decodeAudioFile(file);
      const stat = await fs.stat(file);
      duration = audio.durationS;
      newRecording = {
        path: file,
        fileName: path.basename(file),
        sizeBytes: stat.size,
        checksum: createHash('sha256').update(audio.bytes).digest('hex'),
        format: audio.format,
        durationS: audio.durationS,
        sampleRate: audio.sampleRate,
        channels: audio.channels.length,
        peaksPerSecond: PEAKS_PER_SECOND,
        peaks: computePeaks(audio.channels, audio.sampleRate, PEAKS_PER_SECOND),
      };
    }
    // One commit per file: the recording and its utterances and labels land together.
    store.transaction(() => {
      const recordingId = newRecording ? store.recordings.insert(newRecording) : existing!.id;
      if (newRecording) report.recordingsAdded++;
      for (const seg of segments) {
        const start = seg.start ?? 0;
        const end = seg.end ?? duration;
        if (start >= duration) {
          report.failures.push({
            path: seg.origin,
            reason: `start ${start} s is past the end of ${path.basename(file)} (${duration.toFixed(2)} s)`,
          });
          continue;
        }
        if (end > duration + 0.05) {
          report.failures.push({
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
          });
          utterance = { id, recordingId, start, end: clippedEnd, speaker: seg.speaker, transcript: seg.text };
          report.utterancesAdded++;
        } else if ((!utterance.transcript && seg.text) || (!utterance.speaker && seg.speaker)) {
          store.utterances.updateText(utterance.id, utterance.speaker ?? seg.speaker, utterance.transcript || seg.text);
        }
        if (seg.label) {
          let label = store.labels.byName(seg.label);
          if (!label) {
            label = store.labels.insert(seg.label, colourFor(seg.label), store.labels.freeHotkey());
            report.labelsAdded.push(label.name);
          }
          store.annotations.put(
            utterance.id,
            'import',
            source,
            { labelId: label.id, valence: null, arousal: null, dominance: null, note: '' },
            new Date().toISOString(),
          );
          report.annotationsAdded++;
        }
      }
    });
  }
}

function segmentOf(row: ManifestRow, source: string): Segment {
  return {
    start: row.start,
    end: row.end,
    text: row.text,
    speaker: row.speaker,
    label: row.label,
    origin: `${source}:${row.line}`,
  };
}
