/**
 * Spectrogram tiles: the core computes the spectrogram of a time range of a recording (only that
 * range is read), the renderer draws the tiles of what is in view. Re-exported by contract.ts.
 */
import { z } from 'zod';

const Id = z.number().int().positive();

/** A tile has at most this many pixels (width × height), so one answer stays small (≤ 256 KiB of values). */
export const MAX_SPECTROGRAM_TILE_PIXELS = 512 * 512;
export const MAX_SPECTROGRAM_TILE_WIDTH = 2048;
export const MAX_SPECTROGRAM_TILE_HEIGHT = 1024;
/** The dB range the tile's values are quantised over: 0 is this floor (or lower), 255 the ceiling. */
export const SPECTROGRAM_DB_FLOOR = -120;
export const SPECTROGRAM_DB_CEILING = 0;

/** 'mel': rows evenly spaced in mel (HTK, 2595·log10(1 + f/700)); 'log': evenly spaced in log frequency. */
export const SpectrogramScale = z.enum(['mel', 'log']);
export type SpectrogramScale = z.infer<typeof SpectrogramScale>;

export const SpectrogramTileRequest = z
  .object({
    /** The recording, or the utterance whose recording it is (one of the two). */
    recordingId: Id.optional(),
    utteranceId: Id.optional(),
    /** Recording time, seconds. A tile may run past the recording's end: those columns are silence. */
    startSeconds: z.number().min(0).max(1e7),
    endSeconds: z.number().min(0).max(1e7),
    widthPx: z.number().int().min(1).max(MAX_SPECTROGRAM_TILE_WIDTH),
    heightPx: z.number().int().min(2).max(MAX_SPECTROGRAM_TILE_HEIGHT),
    scale: SpectrogramScale.default('mel'),
    /** The lowest and highest frequency shown (Hz); defaults: 0 for mel, 50 for log; 8 kHz or Nyquist. */
    minHz: z.number().min(0).max(96_000).optional(),
    maxHz: z.number().min(1).max(96_000).optional(),
  })
  .refine((r) => (r.recordingId === undefined) !== (r.utteranceId === undefined), {
    message: 'give recordingId or utteranceId (one of them)',
  })
  .refine((r) => r.endSeconds > r.startSeconds, {
    message: 'endSeconds must be greater than startSeconds',
    path: ['endSeconds'],
  })
  .refine((r) => r.widthPx * r.heightPx <= MAX_SPECTROGRAM_TILE_PIXELS, {
    message: `a tile has at most ${MAX_SPECTROGRAM_TILE_PIXELS} pixels (widthPx × heightPx)`,
    path: ['widthPx'],
  })
  .refine((r) => r.minHz === undefined || r.maxHz === undefined || r.maxHz > r.minHz, {
    message: 'maxHz must be greater than minHz',
    path: ['maxHz'],
  });
export type SpectrogramTileRequest = z.input<typeof SpectrogramTileRequest>;

export const SpectrogramTile = z.object({
  recordingId: Id,
  startSeconds: z.number(),
  endSeconds: z.number(),
  widthPx: z.number().int(),
  heightPx: z.number().int(),
  scale: SpectrogramScale,
  minHz: z.number(),
  maxHz: z.number(),
  sampleRate: z.number(),
  /** FFT (and Hann window) length and hop, in samples; each column averages `framesPerColumn` frames. */
  fftSize: z.number().int(),
  hopSamples: z.number(),
  framesPerColumn: z.number().int(),
  dbFloor: z.number(),
  dbCeiling: z.number(),
  /**
   * Magnitudes in dB (0 dB: a full-scale sine) quantised to 0..255 over [dbFloor, dbCeiling], row by
   * row from the top (maxHz) down: `values[row * widthPx + column]`.
   */
  values: z.array(z.number().int().min(0).max(255)),
});
export type SpectrogramTile = z.infer<typeof SpectrogramTile>;

const mel = (hz: number) => 2595 * Math.log10(1 + hz / 700);
const melToHz = (m: number) => 700 * (10 ** (m / 2595) - 1);

/**
 * The frequency (Hz) at `position` along the axis, 0 at the bottom (minHz), 1 at the top (maxHz). The
 * core and the renderer's axis both use it, so rows and labels agree.
 */
export function spectrogramHzAt(position: number, scale: SpectrogramScale, minHz: number, maxHz: number): number {
  if (scale === 'mel') return melToHz(mel(minHz) + position * (mel(maxHz) - mel(minHz)));
  return minHz * (maxHz / minHz) ** position;
}

/** Where `hz` lies on the axis (0 bottom, 1 top): the inverse of spectrogramHzAt. */
export function spectrogramPositionOf(hz: number, scale: SpectrogramScale, minHz: number, maxHz: number): number {
  if (scale === 'mel') return (mel(hz) - mel(minHz)) / (mel(maxHz) - mel(minHz));
  return Math.log(hz / minHz) / Math.log(maxHz / minHz);
}

/** The default lowest frequency of a scale (log cannot start at 0). */
export const defaultMinHz = (scale: SpectrogramScale) => (scale === 'mel' ? 0 : 50);

/** The overview of a recording has at most this many peaks and segments. */
export const MAX_OVERVIEW_PEAKS = 4000;
export const MAX_OVERVIEW_SEGMENTS = 2000;

/** The whole recording at a glance: its peaks and its segments (utterances) with this annotator's labels. */
export const RecordingOverview = z.object({
  recordingId: Id,
  durationS: z.number(),
  /** Max-abs peaks over the whole recording, evenly spaced, in 0..1. */
  peaks: z.array(z.number().min(0).max(1)),
  segments: z.array(z.object({ utteranceId: Id, start: z.number(), end: z.number(), labelId: Id.nullable() })),
  /** More segments than `MAX_OVERVIEW_SEGMENTS`: those nearest the requested time are given. */
  truncated: z.boolean(),
});
export type RecordingOverview = z.infer<typeof RecordingOverview>;

export const RecordingOverviewRequest = z.object({
  recordingId: Id,
  /** How many peaks (the overview's width in pixels, say). */
  peaks: z.number().int().min(1).max(MAX_OVERVIEW_PEAKS).default(1000),
  /** When the recording has too many segments: keep those nearest this time (seconds). */
  around: z.number().min(0).optional(),
});
