import decodeAudio from 'audio-decode';
import fs from 'node:fs/promises';
import path from 'node:path';
import { decodeOggOpusBytes, opusRateFor } from './ogg-opus';
import { inspectWav } from './wav';

/** Extensions the importer treats as audio. */
export const AUDIO_EXTENSIONS = ['.wav', '.flac', '.mp3', '.ogg', '.opus', '.m4a', '.aif', '.aiff', '.aifc'] as const;

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

const SUPPORTED = 'WAV, AIFF, FLAC, MP3, Ogg Vorbis, Opus or M4A/AAC';

/** WAV format tags the decoder reads: PCM, MS ADPCM, IEEE float, A-law, µ-law, IMA ADPCM (and an
 * extensible header too short to name its sub-format: left to the decoder). */
const WAV_CODECS_READ = new Set([0x0001, 0x0002, 0x0003, 0x0006, 0x0007, 0x0011, 0xfffe]);
/** Names of WAV format tags met in speech archives, for the error that refuses them. */
const WAV_CODEC_NAMES: Record<number, string> = {
  0x0022: 'TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0050: 'MPEG-1 Layer I/II',
  0x0055: 'MP3',
  0x0064: 'G.726 ADPCM',
  0x0065: 'G.722 ADPCM',
  0x0161: 'Windows Media Audio',
  0x0401: 'Intel Music Coder',
};

/** Names the container from its magic bytes; null when it is none we know. */
export function sniffFormat(b: Uint8Array): string | null {
  const s = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length < 12) return null;
  if (s(0, 4) === 'RIFF' && s(8, 4) === 'WAVE') return 'wav';
  if (s(0, 4) === 'fLaC') return 'flac';
  if (s(0, 4) === 'OggS') return s(28, 8) === 'OpusHead' ? 'opus' : 'ogg';
  if (s(4, 4) === 'ftyp') return 'm4a';
  if (s(0, 3) === 'ID3' || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)) return 'mp3';
  if (s(0, 4) === 'FORM' && (s(8, 4) === 'AIFF' || s(8, 4) === 'AIFC')) return 'aiff';
  return null;
}

export interface DecodeOptions {
  /**
   * The rate the caller will resample to. A format that can decode straight to a rate at or above it
   * (Opus: 8, 12, 16, 24 kHz) does, instead of at its full rate; others ignore it.
   */
  preferredRate?: number;
}

/** Reads and decodes a whole file, with a specific reason for each way it can fail. */
export async function decodeAudioFile(file: string, options: DecodeOptions = {}): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AudioFileError(file, 'missing', 'file not found');
    if (code === 'EISDIR') throw new AudioFileError(file, 'not-audio', 'is a folder, not a file');
    throw new AudioFileError(file, 'corrupt', `cannot read file: ${(err as Error).message}`);
  }
  return decodeAudioBytes(file, bytes, options);
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
  if (format === 'wav') {
    const layout = inspectWav(head);
    if (!layout) throw new AudioFileError(file, 'corrupt', 'WAV header is damaged (no fmt/data chunk)');
    if (!WAV_CODECS_READ.has(layout.encoding)) {
      const name = WAV_CODEC_NAMES[layout.encoding] ?? `codec 0x${layout.encoding.toString(16).padStart(4, '0')}`;
      throw new AudioFileError(
        file,
        'unsupported',
        `WAV holding ${name} audio is not supported (PCM, float, A-law, µ-law and ADPCM WAV are); ` +
          'convert it, e.g. `sox in.wav -e signed-integer -b 16 out.wav`',
      );
    }
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

export async function decodeAudioBytes(
  file: string,
  bytes: Uint8Array,
  options: DecodeOptions = {},
): Promise<DecodedAudio> {
  const format = preflightAudio(file, bytes, bytes.length);
  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded =
      format === 'opus' && options.preferredRate
        ? await decodeOggOpusBytes(bytes, opusRateFor(options.preferredRate))
        : await decodeAudio(bytes);
  } catch (err) {
    throw new AudioFileError(file, 'corrupt', `cannot decode ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  const channels = decoded.channelData;
  const length = channels[0]?.length ?? 0;
  if (!decoded.sampleRate || length === 0) {
    throw new AudioFileError(file, 'corrupt', `no audio samples in this ${format.toUpperCase()} file`);
  }
  const durationS = length / decoded.sampleRate;
  if (format === 'mp3' && mp3FrameCoverage(bytes) < 0.5) {
    // MP3 decoders resynchronise on any 11-bit sync pattern, so random bytes behind an ID3 tag or a
    // frame header can yield "audio". Real MP3 data is a chain of frames, each header where the
    // previous frame ends; junk breaks the chain within a frame or two.
    throw new AudioFileError(file, 'not-audio', 'not an audio file: its content is not MP3 frames after the header');
  }
  return { format, sampleRate: decoded.sampleRate, channels, durationS, bytes };
}

const MP3_BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MP3_BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MP3_RATES: Record<number, number[]> = {
  3: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  0: [11025, 12000, 8000],
};

/** The length of the Layer III frame whose header is at `at`, or 0 when there is no valid header there. */
function mp3FrameLength(b: Uint8Array, at: number): number {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return 0;
  const version = (b[at + 1]! >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
  const layer = (b[at + 1]! >> 1) & 3; // 1: Layer III
  const bitrateIndex = b[at + 2]! >> 4;
  const rateIndex = (b[at + 2]! >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  const bitrate = (version === 3 ? MP3_BITRATES_V1 : MP3_BITRATES_V2)[bitrateIndex]! * 1000;
  const rate = MP3_RATES[version]![rateIndex]!;
  const padding = (b[at + 2]! >> 1) & 1;
  return Math.floor(((version === 3 ? 144 : 72) * bitrate) / rate) + padding;
}

/** The share of the bytes after the ID3v2 tag covered by the longest chain of consecutive MP3 frames. */
export function mp3FrameCoverage(b: Uint8Array): number {
  const start = id3v2Size(b);
  const body = b.length - start;
  if (body <= 0) return 0;
  let best = 0;
  for (let at = start; at < Math.min(b.length, start + 64 * 1024) && best < body / 2; at++) {
    let pos = at;
    for (let len = mp3FrameLength(b, pos); len > 0; len = mp3FrameLength(b, pos)) pos += len;
    // The last frame may run to (or a little past) the end of a file cut at a frame boundary.
    best = Math.max(best, Math.min(pos, b.length) - at);
  }
  return best / body;
}

/** The size of a leading ID3v2 tag (cover art can make it large), 0 when there is none. */
function id3v2Size(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return Math.min(b.length, 10 + size + (b[5]! & 0x10 ? 10 : 0));
}
