import * as ort from 'onnxruntime-node';
import type { Device } from '../../shared/contract';
import { AudioFileError, decodeAudioFile, type DecodedAudio } from '../audio/decode';
import { describeError } from '../errors';
import { modelInput, windowsFor } from './audio-frontend';
import { createSession, physicalCores } from './execution';
import { checkGraphInterface, readModelBundle, type ModelBundle } from './model-bundle';
import { inspectAudioFile, slidingWindows, streamMonoAudio } from './streaming-audio';
import { TextEncoder } from './text-encoder';

export interface PredictRequest {
  /** Caller's id for the item (utterance id, file path). */
  key: string;
  path: string;
  /** Segment in seconds; null: the whole file. */
  start: number | null;
  end: number | null;
  text: string | null;
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
  /** Intra-op threads; default: all physical cores. */
  threads?: number;
  /** Padded audio seconds per batch (batch size × longest item); default 15 on the CPU, 60 on a GPU. */
  batchSeconds?: number;
  /** Fraction of overlap between windows of utterances longer than the model's max_seconds. */
  windowOverlap?: number;
  /**
   * Whole files larger than this (bytes; a fifth of it for compressed formats) are decoded and run
   * as a stream of windows, so memory stays bounded on hour-long recordings.
   */
  streamAboveBytes?: number;
}

interface Piece {
  item: number;
  audio: Float32Array;
  ids: number[];
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
 * WavFusion inference on onnxruntime-node: decode → mono → resample → tokenize → duration-sorted
 * batches under an audio-seconds budget → ONNX → windows pooled per utterance → softmax. Results do
 * not depend on batch composition (the graph masks padding).
 */
export class InferenceEngine {
  readonly text: TextEncoder;
  private constructor(
    readonly bundle: ModelBundle,
    private readonly session: ort.InferenceSession,
    readonly device: Exclude<Device, 'auto'>,
    readonly deviceNote: string,
    readonly threads: number,
    private readonly options: Required<Pick<EngineOptions, 'batchSeconds' | 'windowOverlap' | 'streamAboveBytes'>>,
  ) {
    this.text = new TextEncoder(bundle.tokenizerJson, bundle.manifest);
  }

  static async load(bundleDir: string, options: EngineOptions = {}): Promise<InferenceEngine> {
    const bundle = await readModelBundle(bundleDir);
    const threads = options.threads ?? physicalCores();
    let choice;
    try {
      choice = await createSession(bundle.modelPath, options.device ?? 'auto', threads);
    } catch (err) {
      throw new Error(`Model bundle ${bundle.dir}: model.onnx cannot be loaded: ${describeError(err)}`, { cause: err });
    }
    checkGraphInterface(
      bundle.dir,
      choice.session.inputMetadata,
      choice.session.outputMetadata,
      bundle.manifest.labels.length,
    );
    const engine = new InferenceEngine(bundle, choice.session, choice.device, choice.note, threads, {
      // CPU: small batches stay in cache (docs/benchmarks.md: 15 s ran base 1.2-1.7x faster than 60 s, same outputs).
      batchSeconds: options.batchSeconds ?? (choice.device === 'cpu' ? 15 : 60),
      windowOverlap: options.windowOverlap ?? 0.25,
      streamAboveBytes: options.streamAboveBytes ?? 48 * 1024 * 1024,
    });
    await engine.selfCheck();
    return engine;
  }

  get labels(): string[] {
    return this.bundle.manifest.labels;
  }

  /** One second of silence through the graph: catches a wrong label count or a broken graph at load. */
  private async selfCheck(): Promise<void> {
    const sr = this.bundle.manifest.sample_rate;
    const [out] = await this.runPieces([{ item: 0, audio: new Float32Array(sr), ids: this.text.encode(null).ids }]);
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
  async *predict(requests: readonly PredictRequest[], signal?: AbortSignal): AsyncGenerator<PredictResult[]> {
    const sr = this.bundle.manifest.sample_rate;
    let decoded = new Map<string, Promise<DecodedAudio>>();
    let index = 0;
    while (index < requests.length) {
      if (signal?.aborted) return;
      const chunk: {
        request: PredictRequest;
        audio?: Float32Array;
        error?: string;
        ids?: number[];
        textUsed?: boolean;
      }[] = [];
      let seconds = 0;
      let streamed: PredictRequest | null = null;
      while (index < requests.length && chunk.length < CHUNK_ITEMS && seconds < CHUNK_AUDIO_SECONDS) {
        const request = requests[index++]!;
        if (
          request.start === null &&
          request.end === null &&
          !decoded.has(request.path) &&
          (await this.isLong(request.path))
        ) {
          streamed = request;
          break;
        }
        if (!decoded.has(request.path)) decoded.set(request.path, decodeAudioFile(request.path));
        try {
          const audio = await decoded.get(request.path)!;
          const start = request.start ?? 0;
          const end = request.end ?? audio.durationS;
          const samples = await modelInput(audio, start, end, sr);
          const minSamples = this.bundle.manifest.min_samples;
          if (samples.length < minSamples) {
            throw new Error(
              `too short: ${((1000 * samples.length) / sr).toFixed(0)} ms; the model needs at least ${((1000 * minSamples) / sr).toFixed(0)} ms`,
            );
          }
          const { ids, textUsed } = this.text.encode(request.text);
          chunk.push({ request, audio: samples, ids, textUsed });
          seconds += samples.length / sr;
        } catch (err) {
          chunk.push({ request, error: err instanceof AudioFileError ? err.message : describeError(err) });
        }
      }
      // Keep only the last file decoded (its next segments may follow in the next chunk).
      const last = requests[index - 1]!.path;
      decoded = decoded.has(last) ? new Map([[last, decoded.get(last)!]]) : new Map();

      const pieces: Piece[] = [];
      chunk.forEach((c, item) => {
        if (!c.audio) return;
        const maxSamples = Math.round(this.bundle.manifest.max_seconds * sr);
        for (const w of windowsFor(c.audio.length, maxSamples, this.options.windowOverlap)) {
          pieces.push({ item, audio: c.audio.subarray(w.offset, w.offset + w.length), ids: c.ids! });
        }
      });
      const outputs = await this.runBatched(pieces, signal);
      if (signal?.aborted) return;
      const perItem = new Map<number, PieceOutput[]>();
      pieces.forEach((p, i) => perItem.set(p.item, [...(perItem.get(p.item) ?? []), outputs[i]!]));
      if (chunk.length) {
        yield chunk.map((c, item): PredictResult => {
          if (!c.audio) return { key: c.request.key, ok: false, error: c.error!, durationS: 0 };
          return {
            key: c.request.key,
            ok: true,
            textUsed: c.textUsed!,
            durationS: c.audio.length / sr,
            ...pool(perItem.get(item)!),
          };
        });
      }
      if (streamed) {
        const result = await this.predictStreamed(streamed, signal);
        if (signal?.aborted) return;
        yield [result];
      }
    }
  }

  /** Whether a whole file is big enough to be streamed rather than decoded at once. */
  private async isLong(file: string): Promise<boolean> {
    try {
      const { format, size } = await inspectAudioFile(file);
      return size > (format === 'wav' ? this.options.streamAboveBytes : this.options.streamAboveBytes / 5);
    } catch {
      return false; // the in-memory path reports the problem
    }
  }

  /** A long file as a stream of windows, run in batches as they come; only pooled outputs are kept. */
  private async predictStreamed(request: PredictRequest, signal?: AbortSignal): Promise<PredictResult> {
    const sr = this.bundle.manifest.sample_rate;
    const maxSamples = Math.round(this.bundle.manifest.max_seconds * sr);
    const perBatch = Math.max(1, Math.floor((this.options.batchSeconds * sr) / maxSamples));
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
        pending.push({ item: 0, audio: w.audio, ids });
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
    return { key: request.key, ok: true, textUsed, durationS: total / sr, ...pool(outputs) };
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
      batch.push(i);
    }
    await flush();
    return outputs;
  }

  private async runPieces(pieces: Piece[]): Promise<PieceOutput[]> {
    const { pad_token_id: pad } = this.bundle.manifest;
    const b = pieces.length;
    const t = Math.max(...pieces.map((p) => p.audio.length));
    const l = Math.max(...pieces.map((p) => p.ids.length));
    const audio = new Float32Array(b * t);
    const lengths = new BigInt64Array(b);
    const ids = new BigInt64Array(b * l).fill(BigInt(pad));
    const mask = new BigInt64Array(b * l);
    pieces.forEach((p, i) => {
      audio.set(p.audio, i * t);
      lengths[i] = BigInt(p.audio.length);
      p.ids.forEach((id, j) => {
        ids[i * l + j] = BigInt(id);
        mask[i * l + j] = 1n;
      });
    });
    const out = await this.session.run({
      audio: new ort.Tensor('float32', audio, [b, t]),
      audio_lengths: new ort.Tensor('int64', lengths, [b]),
      input_ids: new ort.Tensor('int64', ids, [b, l]),
      attention_mask: new ort.Tensor('int64', mask, [b, l]),
    });
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

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Length-weighted mean of window logits, embeddings and gates; softmax of the pooled logits. */
function pool(outputs: PieceOutput[]) {
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
