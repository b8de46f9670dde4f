import FFT from 'fft.js';
import {
  SPECTROGRAM_DB_CEILING,
  SPECTROGRAM_DB_FLOOR,
  defaultMinHz,
  spectrogramHzAt,
  type SpectrogramScale,
  type SpectrogramTile,
} from '../../shared/contract';
import { StudioError, notFound } from '../errors';
import type { ProjectStore } from '../project/project-store';
import type { DecodedAudioCache } from './decoded-audio-cache';
import { openSampleReader } from './sample-reader';

/** What the service needs of a tile request, once the contract has checked it. */
export interface TileRequest {
  recordingId?: number | undefined;
  utteranceId?: number | undefined;
  startSeconds: number;
  endSeconds: number;
  widthPx: number;
  heightPx: number;
  scale: SpectrogramScale;
  minHz?: number | undefined;
  maxHz?: number | undefined;
}

/** A tile reads its range in one go up to this many samples, and column by column beyond (long ranges). */
const WHOLE_READ_SAMPLES = 1 << 22;
/** Up to this many frames are averaged into a column when the hop is longer than the window (zoomed out). */
const MAX_FRAMES_PER_COLUMN = 16;
const MAX_FFT_SIZE = 4096;
/** The highest frequency shown by default: speech has little above it, and rows stay fine below it. */
const DEFAULT_MAX_HZ = 8000;

/**
 * Spectrogram tiles of a recording's time range: Hann-windowed FFTs (fft.js) with the hop taken from
 * the tile's width, power pooled into mel- or log-spaced rows, in dB quantised to 0..255. Only the
 * range is read from a PCM/float WAV; other formats go through the decoded-audio cache.
 */
export class SpectrogramService {
  private readonly ffts = new Map<number, { fft: FFT; window: Float64Array; norm: number }>();

  constructor(
    private readonly store: ProjectStore,
    private readonly audio: DecodedAudioCache,
    /** Above this many samples a tile reads column by column (tests lower it to check both ways agree). */
    private readonly wholeReadSamples = WHOLE_READ_SAMPLES,
  ) {}

  async tile(request: TileRequest): Promise<SpectrogramTile> {
    const { store } = this;
    let recordingId = request.recordingId;
    if (recordingId === undefined) {
      const u = store.utterances.byId(request.utteranceId ?? 0);
      if (!u) throw notFound(`Utterance ${request.utteranceId}`);
      recordingId = u.recordingId;
    }
    const rec = store.recordings.byId(recordingId);
    if (!rec) throw notFound(`Recording ${recordingId}`);
    const { startSeconds: start, endSeconds: end, widthPx: width, heightPx: height, scale } = request;
    if (!(end > start)) throw invalid(`endSeconds (${end}) must be greater than startSeconds (${start})`);
    if (start >= rec.durationS)
      throw invalid(
        `startSeconds ${start} is at or past the end of recording ${rec.fileName} (${rec.durationS.toFixed(3)} s long)`,
      );

    const reader = await openSampleReader(rec, this.audio);
    const sr = reader.sampleRate;
    const nyquist = sr / 2;
    const minHz = request.minHz ?? defaultMinHz(scale);
    const maxHz = Math.min(nyquist, request.maxHz ?? Math.min(DEFAULT_MAX_HZ, nyquist));
    if (scale === 'log' && minHz <= 0) throw invalid('the log scale needs minHz above 0');
    if (minHz >= maxHz)
      throw invalid(
        `minHz (${minHz}) must be below maxHz (${maxHz}; this recording's Nyquist frequency is ${nyquist})`,
      );

    // The hop follows the width asked for; the window is ~25 ms, or longer (up to 4096) when zoomed out,
    // with several frames averaged per column once even that is shorter than the hop.
    const hop = ((end - start) * sr) / width;
    const base = 2 ** Math.round(Math.log2(0.025 * sr));
    const fftSize = Math.min(MAX_FFT_SIZE, Math.max(base, 2 ** Math.ceil(Math.log2(Math.max(1, hop)))));
    const frames = Math.min(MAX_FRAMES_PER_COLUMN, Math.max(1, Math.ceil(hop / fftSize)));
    const { fft, window, norm } = this.fftOf(fftSize);

    // Rows from the top (maxHz) down; each takes the strongest bin in its band, or the spectrum
    // interpolated at its centre when the band is narrower than a bin.
    const binHz = sr / fftSize;
    const bins = fftSize / 2 + 1;
    const rowFrom = new Int32Array(height);
    const rowTo = new Int32Array(height);
    const rowCentre = new Float64Array(height);
    for (let r = 0; r < height; r++) {
      const lo = spectrogramHzAt((height - 1 - r) / height, scale, minHz, maxHz);
      const hi = spectrogramHzAt((height - r) / height, scale, minHz, maxHz);
      rowFrom[r] = Math.ceil(lo / binHz);
      rowTo[r] = Math.min(bins, r === 0 ? Math.floor(hi / binHz) + 1 : Math.ceil(hi / binHz));
      rowCentre[r] = spectrogramHzAt((height - 0.5 - r) / height, scale, minHz, maxHz) / binHz;
    }

    const first = Math.floor(start * sr);
    const frameStart = (c: number, j: number) =>
      Math.round(start * sr + c * hop + ((j + 0.5) * hop) / frames - fftSize / 2);
    const span = frameStart(width - 1, frames - 1) + fftSize - frameStart(0, 0);
    let whole: Float32Array | null = null;
    let wholeFrom = 0;
    if (span <= this.wholeReadSamples) {
      wholeFrom = frameStart(0, 0);
      whole = await reader.read(wholeFrom, wholeFrom + span);
    }
    const total = Math.round(rec.durationS * sr);

    const values = new Array<number>(width * height).fill(0);
    const input = new Float64Array(fftSize);
    const out = fft.createComplexArray() as number[];
    const power = new Float64Array(bins);
    const scaleDb = 255 / (SPECTROGRAM_DB_CEILING - SPECTROGRAM_DB_FLOOR);
    for (let c = 0; c < width; c++) {
      // Columns past the recording's end stay at the floor (silence).
      if (first + c * hop >= total) continue;
      power.fill(0);
      const colFrom = frameStart(c, 0);
      const colSamples = whole ? null : await reader.read(colFrom, frameStart(c, frames - 1) + fftSize);
      for (let j = 0; j < frames; j++) {
        const at = frameStart(c, j);
        const src = whole ?? colSamples!;
        const offset = at - (whole ? wholeFrom : colFrom);
        for (let i = 0; i < fftSize; i++) input[i] = (src[offset + i] ?? 0) * window[i]!;
        fft.realTransform(out, input);
        for (let k = 0; k < bins; k++) {
          const re = out[2 * k]!;
          const im = out[2 * k + 1]!;
          power[k]! += re * re + im * im;
        }
      }
      const k0 = norm * frames;
      for (let r = 0; r < height; r++) {
        let p = 0;
        if (rowTo[r]! > rowFrom[r]!) {
          for (let k = rowFrom[r]!; k < rowTo[r]!; k++) if (power[k]! > p) p = power[k]!;
        } else {
          const x = rowCentre[r]!;
          const k = Math.min(bins - 2, Math.floor(x));
          p = power[k]! + (power[k + 1]! - power[k]!) * (x - k);
        }
        const db = 10 * Math.log10(p / k0 + 1e-30);
        values[r * width + c] = Math.max(0, Math.min(255, Math.round((db - SPECTROGRAM_DB_FLOOR) * scaleDb)));
      }
    }

    return {
      recordingId: rec.id,
      startSeconds: start,
      endSeconds: end,
      widthPx: width,
      heightPx: height,
      scale,
      minHz,
      maxHz,
      sampleRate: sr,
      fftSize,
      hopSamples: hop,
      framesPerColumn: frames,
      dbFloor: SPECTROGRAM_DB_FLOOR,
      dbCeiling: SPECTROGRAM_DB_CEILING,
      values,
    };
  }

  /** The FFT of a size, its Hann window and the power of a full-scale sine's peak bin (0 dB). */
  private fftOf(size: number) {
    let hit = this.ffts.get(size);
    if (!hit) {
      const window = new Float64Array(size);
      let sum = 0;
      for (let i = 0; i < size; i++) {
        window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
        sum += window[i]!;
      }
      hit = { fft: new FFT(size), window, norm: (sum / 2) ** 2 };
      this.ffts.set(size, hit);
    }
    return hit;
  }
}

const invalid = (message: string) => new StudioError('invalid_request', message);
