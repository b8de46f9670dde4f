/**
 * Decoding a file chunk by chunk, channels kept: a long recording is read a little at a time and never
 * sits in memory whole. audio-decode's streaming decoders for every format; Ogg Opus through
 * ogg-opus.ts when the caller names the rate it needs. Used by the model's front end (mono, through
 * inference/streaming-audio.ts) and by import (checksum and peaks, import/recording-analysis.ts).
 */
import decodeAudio from 'audio-decode';
import fs from 'node:fs';
import { AudioFileError, preflightAudio } from './decode';
import { decodeOggOpus, opusRateFor } from './ogg-opus';

/** audio-decode's chunked decoder names, by our container names. */
const CHUNKED_FORMAT: Record<string, 'wav' | 'flac' | 'mp3' | 'oga' | 'opus' | 'm4a'> = {
  wav: 'wav',
  flac: 'flac',
  mp3: 'mp3',
  ogg: 'oga',
  opus: 'opus',
  m4a: 'm4a',
};

/** Bytes read per decoding step: a few seconds to a minute of audio whatever the format. */
const READ_BYTES: Record<string, number> = { wav: 1 << 20, flac: 1 << 19 };
const COMPRESSED_READ_BYTES = 1 << 16;

export interface DecodeStreamOptions {
  /** The rate the caller resamples to: Ogg Opus decodes straight to the nearest rate at or above it. */
  preferredRate?: number;
  /** Sees every byte read from the file, in order (a checksum over the file as it streams). */
  onBytes?: (bytes: Uint8Array) => void;
}

/** Decodes a file chunk by chunk; each chunk's channels at the file's rate (or the Opus rate asked). */
export async function* decodeChunks(
  file: string,
  format: string,
  { preferredRate, onBytes }: DecodeStreamOptions = {},
): AsyncGenerator<{ channelData: Float32Array[]; sampleRate: number }> {
  const chunked = CHUNKED_FORMAT[format];
  if (!chunked) throw new AudioFileError(file, 'unsupported', `cannot stream ${format}`);
  try {
    const stream = fs.createReadStream(file, { highWaterMark: READ_BYTES[format] ?? COMPRESSED_READ_BYTES });
    async function* tapped(): AsyncGenerator<Uint8Array> {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        onBytes?.(chunk);
        yield chunk;
      }
    }
    const source = onBytes ? tapped() : stream;
    const decoded =
      format === 'opus' && preferredRate
        ? decodeOggOpus(source, opusRateFor(preferredRate))
        : decodeAudio(source as AsyncIterable<Uint8Array>, chunked);
    for await (const chunk of decoded) if (chunk.channelData[0]?.length) yield chunk;
  } catch (err) {
    if (err instanceof AudioFileError) throw err;
    throw new AudioFileError(file, 'corrupt', `cannot decode ${format.toUpperCase()}: ${(err as Error).message}`);
  }
}

/**
 * How many bytes of 16-bit 48 kHz stereo PCM one byte of a format can stand for, at the lowest
 * bitrates in common use (FLAC about half of PCM, MP3/AAC 32 kbit/s, Opus/Vorbis 16 kbit/s). A whole
 * file is decoded at once only when even that much audio stays under the WAV limit; a 10-minute
 * 24 kbit/s Opus file (1.8 MB) would otherwise be decoded whole into ~230 MB of float samples.
 */
const EXPANSION: Record<string, number> = { wav: 1, flac: 2, mp3: 48, m4a: 48, ogg: 96, opus: 96 };

/** Whether a whole file of this format and size should be streamed rather than decoded at once. */
export function streamsWhole(format: string, size: number, streamAboveBytes: number): boolean {
  return size * (EXPANSION[format] ?? 48) > streamAboveBytes;
}

/** Checks the file (as decodeAudioFile would) and returns its format and size, without reading it all. */
export async function inspectAudioFile(file: string): Promise<{ format: string; size: number }> {
  let handle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AudioFileError(
      file,
      code === 'ENOENT' ? 'missing' : 'corrupt',
      code === 'ENOENT' ? 'file not found' : (err as Error).message,
    );
  }
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 64 * 1024));
    try {
      await handle.read(head, 0, head.length, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR')
        throw new AudioFileError(file, 'not-audio', 'is a folder, not a file');
      throw new AudioFileError(file, 'corrupt', `cannot read file: ${(err as Error).message}`);
    }
    return { format: preflightAudio(file, head, size), size };
  } finally {
    await handle.close();
  }
}
