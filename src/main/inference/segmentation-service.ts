import type { SegmentationResult, SegmentProposal, SegmentScope, VadParams } from '../../shared/contract';
import { notFound } from '../errors';
import { describeError } from '../errors';
import { throwIfCancelled, type JobContext } from '../jobs/job-runner';
import type { ProjectStore } from '../project/project-store';
import { inspectAudioFile } from '../audio/decode-stream';
import { streamMonoAudio } from './streaming-audio';
import { SileroVad, VAD_SAMPLE_RATE, speechSegments } from './vad';

/**
 * Voice activity detection over recordings of a project, as a job: proposes segments (Silero VAD v5)
 * and changes nothing; `SegmentService.commit` commits what the person keeps. Runs in the core's
 * process: onnxruntime-node runs the graph off the event loop, and the model is small (2 MB) and
 * fast (~250× real time on one core), so it does not share the inference worker, which is tied to a
 * model bundle.
 */
export class SegmentationService {
  private vad: Promise<SileroVad> | null = null;

  constructor(private readonly store: ProjectStore) {}

  private model(): Promise<SileroVad> {
    this.vad ??= SileroVad.load();
    return this.vad;
  }

  async run(scope: SegmentScope, params: VadParams, ctx: JobContext): Promise<SegmentationResult> {
    const { store } = this;
    const started = Date.now();
    const recordings = scope.recordingIds
      ? scope.recordingIds.map((id) => store.recordings.byId(id) ?? throwNotFound(id))
      : store.recordings.list();
    const span = (durationS: number) =>
      scope.range ? Math.max(0, Math.min(scope.range.end, durationS) - scope.range.start) : durationS;
    const total = recordings.reduce((a, r) => a + span(r.durationS), 0);
    const proposals: SegmentProposal[] = [];
    const failures: SegmentationResult['failures'] = [];
    const vad = await this.model();
    let done = 0;
    let audioSeconds = 0;
    for (const rec of recordings) {
      throwIfCancelled(ctx.signal);
      ctx.progress(done, total, `VAD: ${rec.fileName}`);
      try {
        const { format } = await inspectAudioFile(rec.path);
        const offset = scope.range?.start ?? 0;
        const stream = streamMonoAudio(rec.path, format, VAD_SAMPLE_RATE);
        const scores = await vad.score(scope.range ? sliceStream(stream, scope.range.start, scope.range.end) : stream, {
          signal: ctx.signal,
          onProgress: (s) => ctx.progress(done + s, total, `VAD: ${rec.fileName}`),
        });
        audioSeconds += scores.duration;
        const found = speechSegments(scores, params).map((s) => ({
          start: round(s.start + offset),
          end: round(Math.min(s.end + offset, rec.durationS)),
        }));
        const notes: string[] = [];
        if (rec.sampleRate !== VAD_SAMPLE_RATE) notes.push(`resampled from ${rec.sampleRate} Hz to 16 kHz`);
        if (found.length === 0) notes.push('no speech found');
        proposals.push({
          recordingId: rec.id,
          recordingName: rec.fileName,
          duration: scores.duration,
          segments: found.map((s) => ({
            ...s,
            overlaps: store.utterances.overlapping(rec.id, s.start, s.end).map((u) => u.id),
          })),
          note: notes.join('; '),
        });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        failures.push({ recordingId: rec.id, recordingName: rec.fileName, reason: describeError(err) });
      }
      done += span(rec.durationS);
    }
    ctx.progress(total, total, 'VAD done');
    return { params, proposals, failures, audioSeconds, elapsedSeconds: (Date.now() - started) / 1000 };
  }

  async close(): Promise<void> {
    const vad = this.vad;
    this.vad = null;
    if (vad) await (await vad).close();
  }
}

function throwNotFound(id: number): never {
  throw notFound(`Recording ${id}`);
}

const round = (s: number) => Math.round(s * 1000) / 1000;

/** The part [start, end) s of a 16 kHz stream. */
async function* sliceStream(chunks: AsyncIterable<Float32Array>, start: number, end: number) {
  const from = Math.round(start * VAD_SAMPLE_RATE);
  const to = Math.round(end * VAD_SAMPLE_RATE);
  let at = 0;
  for await (const chunk of chunks) {
    const a = Math.max(from - at, 0);
    const b = Math.min(to - at, chunk.length);
    if (b > a) yield chunk.subarray(a, b);
    at += chunk.length;
    if (at >= to) return;
  }
}
