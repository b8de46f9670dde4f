import * as ort from 'onnxruntime-node';
import type { Device, Precision } from '../../shared/contract';
import { AudioFileError } from '../audio/decode';
import { describeError } from '../errors';
import { windowsFor } from './audio-frontend';
import { FrontEndPool, frontEndWorkerCount, pipeline } from './frontend-pipeline';
import { cpuThreading, createSession, physicalCores } from './execution';
import { checkGraphInterface, readModelBundle, type ModelBundle } from './model-bundle';
import { openBundleSession, type ConcretePrecision } from './precision';
import { speakerStatistics, type SpeakerStatistics } from './speaker-statistics';
import { inspectAudioFile } from '../audio/decode-stream';
import { slidingWindows, streamMonoAudio } from './streaming-audio';
import { TextEncoder } from './text-encoder';

export interface PredictRequest {
  /** Caller's id for the item (utterance id, file path). */
  key: string;
  path: string;
  /** Segment in seconds; null: the whole file. */
  start: number | null;
  end: number | null;
  text: string | null;
  /**
   * Who speaks (a project's or manifest's speaker column). A speaker-normalised model normalises the
   * utterance by the statistics of this speaker's utterances; null/absent: by the training set's.
   */
  speaker?: string | null;
}

/** What predict() reports before its first results: the speaker statistics pass of a speaker-normalised model. */
export interface PredictProgress {
  phase: 'speaker-statistics';
  done: number;
  total: number;
}

export interface PredictOptions {
  signal?: AbortSignal;
  /**
   * More utterances of the requests' speakers, read only for their speaker statistics (a studio run
   * over a selection still normalises each speaker by all of their utterances in the project).
   */
  statisticsPool?: readonly PredictRequest[];
  onProgress?: (progress: PredictProgress) => void;
}

export type PredictResult =
  | {
      key: string;
      ok: true;
      probabilities: number[];
      logits: number[];
      embedding: Float32Array;
      textGate: number;
      textUsed: boolean;
      windows: number;
      durationS: number;
    }
  | { key: string; ok: false; error: string; durationS: number };

export interface EngineOptions {
  device?: Device;
  /** auto: int8 on the CPU when the bundle lists it (model.json variants), float32 on a GPU. */
  precision?: Precision;
  /** Intra-op threads; default: all physical cores. */
  threads?: number;
  /** Padded audio seconds per batch (batch size × longest item); default 15 on the CPU, 60 on a GPU. */
  batchSeconds?: number;
  /** Fraction of overlap between windows of utterances longer than the model's max_seconds. */
  windowOverlap?: number;
  /**
   * Whole files larger than this (WAV bytes; compressed files by the audio they may hold,
   * streaming-audio.ts streamsWhole) are decoded and run
   * as a stream of windows, so memory stays bounded on hour-long recordings.
   */
  streamAboveBytes?: number;
  /**
   * Worker threads that decode and resample while the model runs (frontend-pipeline.ts); default:
   * the cores the model's threads leave, at least 1. 0: in-process, in series with the model.
   */
  frontEndWorkers?: number;
  /** Prepared audio-seconds the front end may hold ahead of the model; default: two chunks. */
  queueSeconds?: number;
  /**
   * One item per model run, so that each result is independent of its batch-mates to the last bit
   * (batched float kernels round differently with the batch's shape). Always on for int8, whose
   * activation scales are per run; sharded CLI runs ask for it so that shards merge byte for byte.
   */
  oneItemPerRun?: boolean;
}

interface Piece {
  item: number;
  audio: Float32Array;
  ids: number[];
  /** [2 × dimension]: the speaker's mean then standard deviation; null: NaN (the training set's). */
  speaker: Float32Array | null;
}

interface PieceOutput {
  logits: Float32Array;
  embedding: Float32Array;
  textGate: number;
  samples: number;
}

/** Audio decoded at a time, at most, before a chunk of requests is run (bounds memory). */
const CHUNK_AUDIO_SECONDS = 600;
const CHUNK_ITEMS = 256;

/**
 * WavFusion inference on onnxruntime-node: decode → mono → resample (on front-end worker threads,
 * concurrently with the model, frontend-pipeline.ts) → tokenize → duration-sorted
 * batches under an audio-seconds budget → ONNX → windows pooled per utterance → softmax. Results do
 * not depend on batch composition (the graph masks padding).
 */
export class InferenceEngine {
  readonly text: TextEncoder;
  private pool: FrontEndPool | null = null;
  private constructor(
    readonly bundle: ModelBundle,
    private readonly session: ort.InferenceSession,
    /** statistics.onnx of a speaker-normalised bundle (always float32 on the CPU: it is a log-mel and a mean). */
    private readonly statisticsSession: ort.InferenceSession | null,
    readonly device: Exclude<Device, 'auto'>,
    readonly deviceNote: string,
    readonly threads: number,
    readonly precision: ConcretePrecision,
    private readonly options: Required<
      Pick<EngineOptions, 'batchSeconds' | 'windowOverlap' | 'streamAboveBytes' | 'oneItemPerRun' | 'frontEndWorkers'>
    > &
      Pick<EngineOptions, 'queueSeconds'>,
  ) {
    this.text = new TextEncoder(bundle.tokenizerJson, bundle.manifest);
  }

  static async load(bundleDir: string, options: EngineOptions = {}): Promise<InferenceEngine> {
    const bundle = await readModelBundle(bundleDir);
    const threads = options.threads ?? physicalCores();
    const frontEndWorkers = options.frontEndWorkers ?? frontEndWorkerCount(threads);
    const cpu = cpuThreading(threads, frontEndWorkers);
    let choice;
    try {
      choice = await openBundleSession(bundle, options.device ?? 'auto', cpu, options.precision ?? 'auto');
    } catch (err) {
      throw new Error(`Model bundle ${bundle.dir}: model.onnx cannot be loaded: ${describeError(err)}`, { cause: err });
    }
    checkGraphInterface(
      bundle.dir,
      choice.session.inputMetadata,
      choice.session.outputMetadata,
      bundle.manifest.labels.length,
      !!bundle.manifest.speaker_normalisation,
    );
    let statisticsSession: ort.InferenceSession | null = null;
    if (bundle.statisticsModelPath) {
      try {
        statisticsSession = (await createSession(bundle.statisticsModelPath, 'cpu', cpu)).session;
      } catch (err) {
        await choice.session.release();
        throw new Error(
          `Model bundle ${bundle.dir}: ${bundle.manifest.speaker_normalisation!.statistics_model} cannot be loaded: ${describeError(err)}`,
          { cause: err },
        );
      }
    }
    const engine = new InferenceEngine(
      bundle,
      choice.session,
      statisticsSession,
      choice.device,
      choice.note,
      threads,
      choice.precision,
      {
        // CPU: small batches stay in cache (docs/benchmarks.md: 15 s ran base 1.2-1.7x faster than 60 s, same outputs).
        batchSeconds: options.batchSeconds ?? (choice.device === 'cpu' ? 15 : 60),
        windowOverlap: options.windowOverlap ?? 0.25,
        streamAboveBytes: options.streamAboveBytes ?? 48 * 1024 * 1024,
        frontEndWorkers,
        queueSeconds: options.queueSeconds,
        // int8 quantises activations per tensor at run time: one item per run keeps results independent of batch-mates
        oneItemPerRun: options.oneItemPerRun === true || choice.precision === 'int8',
      },
    );
    await engine.selfCheck();
    return engine;
  }

  get labels(): string[] {
    return this.bundle.manifest.labels;
  }

  /** One second of silence through the graph: catches a wrong label count or a broken graph at load. */
  private async selfCheck(): Promise<void> {
    const sr = this.bundle.manifest.sample_rate;
    const [out] = await this.runPieces([
      { item: 0, audio: new Float32Array(sr), ids: this.text.encode(null).ids, speaker: null },
    ]);
    if (!out || out.logits.length !== this.labels.length) {
      throw new Error(
        `Model bundle ${this.bundle.dir} does not fit the WavFusion bundle contract: logits has ${out?.logits.length} classes but model.json lists ${this.labels.length} labels`,
      );
    }
  }

  /**
   * Predicts every request, yielding results chunk by chunk (in request order within a chunk).
   * A request that fails (missing file, bad audio, too short) yields an error result; the rest go on.
   */
  async *predict(
    requests: readonly PredictRequest[],
    options: PredictOptions | AbortSignal = {},
  ): AsyncGenerator<PredictResult[]> {
    const { signal, statisticsPool, onProgress } = options instanceof AbortSignal ? { signal: options } : options;
    const speakers = this.statisticsSession
      ? await this.speakerStatistics([...requests, ...(statisticsPool ?? [])], signal, onProgress)
      : new Map<string, SpeakerStatistics>();
    if (signal?.aborted) return;
    const speakerOf = (r: PredictRequest) => (r.speaker ? (speakers.get(r.speaker) ?? null) : null);
    const sr = this.bundle.manifest.sample_rate;
    const minSamples = this.bundle.manifest.min_samples;
    const maxSamples = Math.round(this.bundle.manifest.max_seconds * sr);
    // Chunks of a few batches, so the front end works on the next chunk while the model runs this one.
    const chunkSeconds = Math.min(CHUNK_AUDIO_SECONDS, Math.max(60, 4 * this.options.batchSeconds));
    const prepared = this.prepareAudio(requests, 2 * chunkSeconds, signal);
    type Entry = { request: PredictRequest; audio?: Float32Array; error?: string; ids?: number[]; textUsed?: boolean };
    let chunk: Entry[] = [];
    let seconds = 0;
    const run = async (): Promise<PredictResult[] | null> => {
      const pieces: Piece[] = [];
      chunk.forEach((c, item) => {
        if (!c.audio) return;
        for (const w of windowsFor(c.audio.length, maxSamples, this.options.windowOverlap)) {
          pieces.push({
            item,
            audio: c.audio.subarray(w.offset, w.offset + w.length),
            ids: c.ids!,
            speaker: speakerOf(c.request),
          });
        }
      });
      const outputs = await this.runBatched(pieces, signal);
      if (signal?.aborted) return null;
      const perItem = new Map<number, PieceOutput[]>();
      pieces.forEach((p, i) => perItem.set(p.item, [...(perItem.get(p.item) ?? []), outputs[i]!]));
      const results = chunk.map((c, item): PredictResult => {
        if (!c.audio) return { key: c.request.key, ok: false, error: c.error!, durationS: 0 };
        return {
          key: c.request.key,
          ok: true,
          textUsed: c.textUsed!,
          durationS: c.audio.length / sr,
          ...poolOutputs(perItem.get(item)!),
        };
      });
      chunk = [];
      seconds = 0;
      return results;
    };
    for await (const [index, p] of prepared) {
      if (signal?.aborted) return;
      const request = requests[index]!;
      if (p.kind === 'long') {
        if (chunk.length) {
          const results = await run();
          if (!results) return;
          yield results;
        }
        const result = await this.predictStreamed(request, speakerOf(request), signal);
        if (signal?.aborted) return;
        yield [result];
        continue;
      }
      if (p.kind === 'error') chunk.push({ request, error: p.error });
      else if (p.audio.length < minSamples) {
        chunk.push({
          request,
          error: `too short: ${((1000 * p.audio.length) / sr).toFixed(0)} ms; the model needs at least ${((1000 * minSamples) / sr).toFixed(0)} ms`,
        });
      } else {
        const { ids, textUsed } = this.text.encode(request.text);
        chunk.push({ request, audio: p.audio, ids, textUsed });
        seconds += p.audio.length / sr;
      }
      if (chunk.length >= CHUNK_ITEMS || seconds >= chunkSeconds) {
        const results = await run();
        if (!results) return;
        yield results;
      }
    }
    if (signal?.aborted) return;
    if (chunk.length) {
      const results = await run();
      if (results) yield results;
    }
  }

  /**
   * The requests' audio, decoded and resampled on the front-end workers, in request order through a
   * queue bounded in audio-seconds (`queueSeconds`, else `boundSeconds`).
   */
  private prepareAudio(requests: readonly PredictRequest[], boundSeconds: number, signal?: AbortSignal) {
    const pool = this.frontEnd();
    const jobs = requests.map((r) => ({
      path: r.path,
      start: r.start,
      end: r.end,
      sampleRate: this.bundle.manifest.sample_rate,
      streamAboveBytes: this.options.streamAboveBytes,
    }));
    return pipeline(jobs, pool.prepare, {
      boundSeconds: this.options.queueSeconds ?? boundSeconds,
      concurrency: Math.max(2, 2 * pool.size),
      signal,
    });
  }

  /** The front-end workers, started on first use and kept until close(). */
  private frontEnd(): FrontEndPool {
    this.pool ??= new FrontEndPool(this.options.frontEndWorkers);
    return this.pool;
  }

  /** A long file as a stream of windows, run in batches as they come; only pooled outputs are kept. */
  private async predictStreamed(
    request: PredictRequest,
    speaker: Float32Array | null,
    signal?: AbortSignal,
  ): Promise<PredictResult> {
    const sr = this.bundle.manifest.sample_rate;
    const maxSamples = Math.round(this.bundle.manifest.max_seconds * sr);
    const perBatch = this.options.oneItemPerRun
      ? 1
      : Math.max(1, Math.floor((this.options.batchSeconds * sr) / maxSamples));
    const { ids, textUsed } = this.text.encode(request.text);
    const outputs: PieceOutput[] = [];
    let pending: Piece[] = [];
    let total = 0;
    try {
      const { format } = await inspectAudioFile(request.path);
      const windows = slidingWindows(streamMonoAudio(request.path, format, sr), maxSamples, this.options.windowOverlap);
      for await (const w of windows) {
        if (signal?.aborted) break;
        if (w.total !== undefined) total = w.total;
        pending.push({ item: 0, audio: w.audio, ids, speaker });
        if (pending.length >= perBatch) {
          outputs.push(...(await this.runPieces(pending)));
          pending = [];
        }
      }
      if (pending.length) outputs.push(...(await this.runPieces(pending)));
      const minSamples = this.bundle.manifest.min_samples;
      if (total < minSamples)
        throw new Error(`too short: the model needs at least ${((1000 * minSamples) / sr).toFixed(0)} ms`);
    } catch (err) {
      return {
        key: request.key,
        ok: false,
        error: err instanceof AudioFileError ? err.message : describeError(err),
        durationS: 0,
      };
    }
    return { key: request.key, ok: true, textUsed, durationS: total / sr, ...poolOutputs(outputs) };
  }

  /** Sorts pieces by length and runs them in batches of at most `batchSeconds` padded audio. */
  private async runBatched(pieces: Piece[], signal?: AbortSignal): Promise<PieceOutput[]> {
    const sr = this.bundle.manifest.sample_rate;
    const order = pieces.map((_, i) => i).sort((a, b) => pieces[b]!.audio.length - pieces[a]!.audio.length);
    const outputs: PieceOutput[] = new Array(pieces.length);
    let batch: number[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const results = await this.runPieces(batch.map((i) => pieces[i]!));
      batch.forEach((i, j) => (outputs[i] = results[j]!));
      batch = [];
    };
    for (const i of order) {
      if (signal?.aborted) return outputs;
      const longest = batch.length ? pieces[batch[0]!]!.audio.length : pieces[i]!.audio.length;
      if (batch.length && ((batch.length + 1) * longest) / sr > this.options.batchSeconds) await flush();
      else if (batch.length && this.options.oneItemPerRun) await flush();
      batch.push(i);
    }
    await flush();
    return outputs;
  }

  private async runPieces(pieces: Piece[]): Promise<PieceOutput[]> {
    const { pad_token_id: pad } = this.bundle.manifest;
    const b = pieces.length;
    const l = Math.max(...pieces.map((p) => p.ids.length));
    const ids = new BigInt64Array(b * l).fill(BigInt(pad));
    const mask = new BigInt64Array(b * l);
    pieces.forEach((p, i) => {
      p.ids.forEach((id, j) => {
        ids[i * l + j] = BigInt(id);
        mask[i * l + j] = 1n;
      });
    });
    const feeds: Record<string, ort.Tensor> = {
      ...audioFeeds(pieces.map((p) => p.audio)),
      input_ids: new ort.Tensor('int64', ids, [b, l]),
      attention_mask: new ort.Tensor('int64', mask, [b, l]),
    };
    const normalisation = this.bundle.manifest.speaker_normalisation;
    if (normalisation) {
      const width = 2 * normalisation.dimension;
      const speaker = new Float32Array(b * width).fill(NaN);
      pieces.forEach((p, i) => p.speaker && speaker.set(p.speaker, i * width));
      feeds.speaker_statistics = new ort.Tensor('float32', speaker, [b, 2, normalisation.dimension]);
    }
    const out = await this.session.run(feeds);
    const logits = out.logits!.data as Float32Array;
    const embedding = out.embedding!.data as Float32Array;
    const gate = out.text_gate!.data as Float32Array;
    const c = logits.length / b;
    const d = embedding.length / b;
    return pieces.map((p, i) => ({
      logits: logits.slice(i * c, (i + 1) * c),
      embedding: embedding.slice(i * d, (i + 1) * d),
      textGate: gate[i]!,
      samples: p.audio.length,
    }));
  }

  /**
   * The statistics pass of a speaker-normalised model: statistics.onnx over every utterance that has a
   * speaker (each read as the model reads it, its first max_seconds), then per speaker the mean and
   * standard deviation of them (speaker-statistics.ts). Utterances that cannot be read or are whole
   * files streamed in windows are left out of their speaker's statistics; they still get predicted.
   */
  private async speakerStatistics(
    requests: readonly PredictRequest[],
    signal?: AbortSignal,
    onProgress?: (progress: PredictProgress) => void,
  ): Promise<Map<string, SpeakerStatistics>> {
    const normalisation = this.bundle.manifest.speaker_normalisation!;
    const seen = new Set<string>();
    const withSpeaker = requests.filter((r) => {
      if (!r.speaker) return false;
      const id = `${r.path}\u0000${r.start}\u0000${r.end}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
    const counts = new Map<string, number>();
    for (const r of withSpeaker) counts.set(r.speaker!, (counts.get(r.speaker!) ?? 0) + 1);
    const todo = withSpeaker.filter((r) => counts.get(r.speaker!)! >= normalisation.min_utterances);
    const sr = this.bundle.manifest.sample_rate;
    const maxSamples = Math.round(this.bundle.manifest.max_seconds * sr);
    const prepared = this.prepareAudio(todo, 120, signal);
    const perUtterance: { speaker: string; statistics: Float32Array }[] = [];
    let batch: { speaker: string; audio: Float32Array }[] = [];
    let longest = 0;
    let done = 0;
    onProgress?.({ phase: 'speaker-statistics', done, total: todo.length });
    const flush = async () => {
      if (!batch.length) return;
      const rows = await this.runStatistics(batch.map((x) => x.audio));
      batch.forEach((x, i) => perUtterance.push({ speaker: x.speaker, statistics: rows[i]! }));
      done += batch.length;
      batch = [];
      longest = 0;
      onProgress?.({ phase: 'speaker-statistics', done, total: todo.length });
    };
    for await (const [index, p] of prepared) {
      if (signal?.aborted) return new Map();
      if (p.kind !== 'audio' || p.audio.length < this.bundle.manifest.min_samples) {
        done++;
        continue;
      }
      const audio = p.audio.subarray(0, maxSamples);
      batch.push({ speaker: todo[index]!.speaker!, audio });
      longest = Math.max(longest, audio.length);
      if (longest * batch.length >= this.options.batchSeconds * sr) await flush();
    }
    await flush();
    return speakerStatistics(perUtterance, normalisation.dimension, normalisation.min_utterances);
  }

  /** statistics.onnx over clips (raw 16 kHz samples) → one [dimension] row each. */
  private async runStatistics(clips: Float32Array[]): Promise<Float32Array[]> {
    const out = await this.statisticsSession!.run(audioFeeds(clips));
    const data = out.statistics!.data as Float32Array;
    const d = data.length / clips.length;
    return clips.map((_, i) => data.slice(i * d, (i + 1) * d));
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
    await this.session.release();
    await this.statisticsSession?.release();
  }
}

/** Clips (raw samples) as the graphs' `audio` [b, longest] zero-padded and `audio_lengths` [b]. */
function audioFeeds(clips: readonly Float32Array[]): { audio: ort.Tensor; audio_lengths: ort.Tensor } {
  const b = clips.length;
  const t = Math.max(...clips.map((c) => c.length));
  const audio = new Float32Array(b * t);
  const lengths = new BigInt64Array(b);
  clips.forEach((c, i) => {
    audio.set(c, i * t);
    lengths[i] = BigInt(c.length);
  });
  return {
    audio: new ort.Tensor('float32', audio, [b, t]),
    audio_lengths: new ort.Tensor('int64', lengths, [b]),
  };
}

/** Length-weighted mean of window logits, embeddings and gates; softmax of the pooled logits. */
function poolOutputs(outputs: PieceOutput[]) {
  const total = outputs.reduce((s, o) => s + o.samples, 0);
  const c = outputs[0]!.logits.length;
  const logits = new Array<number>(c).fill(0);
  const embedding = new Float32Array(outputs[0]!.embedding.length);
  let textGate = 0;
  for (const o of outputs) {
    const w = o.samples / total;
    for (let k = 0; k < c; k++) logits[k]! += w * o.logits[k]!;
    for (let k = 0; k < embedding.length; k++) embedding[k]! += w * o.embedding[k]!;
    textGate += w * o.textGate;
  }
  return { logits, probabilities: softmax(logits), embedding, textGate, windows: outputs.length };
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Entropy of a distribution divided by log(classes): 0 certain, 1 uniform. */
export function normalisedEntropy(p: readonly number[]): number {
  const h = -p.reduce((s, v) => (v > 0 ? s + v * Math.log(v) : s), 0);
  return p.length > 1 ? h / Math.log(p.length) : 0;
}
