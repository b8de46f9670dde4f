import decodeAudio from 'audio-decode';
import fs from 'node:fs/promises';
import path from 'node:path';
import { inspectWav } from './wav';

/** Extensions the importer treats as audio. */
export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a'] as const;

export function isAudioPath(file: string): boolean {
  return (AUDIO_EXTENSIONS as readonly string[]).includes(path.extname(file).toLowerCase());
}

/** Why a file cannot be used as audio, phrased for the import report. */
export class AudioFileError extends Error {
  constructor(
    readonly file: string,
    readonly kind: 'missing' | 'empty' | 'truncated' | 'not-audio' | 'unsupported' | 'corrupt',
    reason: string,
  ) {
    super(reason);
    this.name = 'AudioFileError';
  }
}

export interface DecodedAudio {
  format: string;
  sampleRate: number;
  channels: Float32Array[];
  durationS: number;
  bytes: Uint8Array;
}

const SUPPORTED = 'WAV, FLAC, MP3, Ogg Vorbis, Opus or M4A/AAC';

/** Names the container from its magic bytes; null when it is none we know. */
export function sniffFormat(b: Uint8Array): string | null {
  const s = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length < 12) return null;
  if (s(0, 4) === 'RIFF' && s(8, 4) === 'WAVE') return 'wav';
  if (s(0, 4) === 'fLaC') return 'flac';
  if (s(0, 4) === 'OggS') return s(28, 8) === 'OpusHead' ? 'opus' : 'ogg';
  if (s(4, 4) === 'ftyp') return 'm4a';
  if (s(0, 3) === 'ID3' || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)) return 'mp3';
  if (s(0, 4) === 'FORM') return 'aiff';
  return null;
}

/** Reads and decodes a whole file, with a specific reason for each way it can fail. */
export async function decodeAudioFile(file: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AudioFileError(file, 'missing', 'file not found');
    if (code === 'EISDIR') throw new AudioFileError(file, 'not-audio', 'is a folder, not a file');
    throw new AudioFileError(file, 'corrupt', `cannot read file: ${(err as Error).message}`);
  }
  return decodeAudioBytes(file, bytes);
}

/**
 * Checks what can be told from a file's first bytes and its size: empty, not audio, unsupported, a
 * truncated WAV. Returns the container format.
 */
export function preflightAudio(file: string, head: Uint8Array, size: number): string {
  if (size === 0) throw new AudioFileError(file, 'empty', 'empty file (0 bytes)');
  const format = sniffFormat(head);
  if (format === null) {
    throw new AudioFileError(file, 'not-audio', `not an audio file: its content is not ${SUPPORTED}`);
  }
  if (format === 'aiff')
    throw new AudioFileError(file, 'unsupported', 'AIFF is not supported; convert it to WAV or FLAC');
  if (format === 'wav') {
    const layout = inspectWav(head);
    if (!layout) throw new AudioFileError(file, 'corrupt', 'WAV header is damaged (no fmt/data chunk)');
    const available = size - layout.dataOffset;
    if (available < layout.declaredDataBytes && layout.declaredDataBytes !== layout.availableDataBytes) {
      const bytesPerSecond = layout.sampleRate * layout.channels * (layout.bitsPerSample / 8);
      const declared = (layout.declaredDataBytes / bytesPerSecond).toFixed(2);
      const present = (available / bytesPerSecond).toFixed(2);
      throw new AudioFileError(
        file,
        'truncated',
        `truncated WAV: header declares ${declared} s of audio, file holds ${present} s`,
      );
    }
  }
  return format;
}

export async function decodeAudioBytes(file: string, bytes: Uint8Array): Promise<DecodedAudio> {
  const format = preflightAudio(file, bytes, bytes.length);
  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded = await decodeAudio(bytes);
  } catch (err) {
    throw new AudioFileError(file, 'corrupt', `cannot decode ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  const channels = decoded.channelData;
  const length = channels[0]?.length ?? 0;
  if (!decoded.sampleRate || length === 0) {
    throw new AudioFileError(file, 'corrupt', `no audio samples in this ${format.toUpperCase()} file`);
  }
  return { format, sampleRate: decoded.sampleRate, channels, durationS: length / decoded.sampleRate, bytes };
}
