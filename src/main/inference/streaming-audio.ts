import decodeAudio from 'audio-decode';
import fs from 'node:fs';
import { AudioFileError, preflightAudio } from '../audio/decode';
import { downmix } from '../audio/signal';
import { createResampler, type StreamResampler } from '../audio/resampler';

/** audio-decode's chunked decoder names, by our container names. */
const CHUNKED_FORMAT: Record<string, 'wav' | 'flac' | 'mp3' | 'oga' | 'opus' | 'm4a'> = {
  wav: 'wav',
  flac: 'flac',
  mp3: 'mp3',
  ogg: 'oga',
  opus: 'opus',
  m4a: 'm4a',
};

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

/** Bytes read per decoding step: a few seconds to a minute of audio whatever the format. */
const READ_BYTES: Record<string, number> = { wav: 1 << 20, flac: 1 << 19 };
const COMPRESSED_READ_BYTES = 1 << 16;

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
    await handle.read(head, 0, head.length, 0);
    return { format: preflightAudio(file, head, size), size };
  } finally {
    await handle.close();
  }
}

/**
 * Decodes a file chunk by chunk, yielding mono audio resampled (resampler.ts, stateful across
 * chunks) to `sampleRate`: a long recording never sits in memory whole.
 */
export async function* streamMonoAudio(file: string, format: string, sampleRate: number): AsyncGenerator<Float32Array> {
  const chunked = CHUNKED_FORMAT[format];
  if (!chunked) throw new AudioFileError(file, 'unsupported', `cannot stream ${format}`);
  let converter: StreamResampler | null = null;
  let produced = 0;
  try {
    const source = fs.createReadStream(file, { highWaterMark: READ_BYTES[format] ?? COMPRESSED_READ_BYTES });
    for await (const chunk of decodeAudio(source, chunked)) {
      const mono = downmix(chunk.channelData);
      if (mono.length === 0) continue;
      if (!converter && produced === 0 && chunk.sampleRate !== sampleRate) {
        converter = await createResampler(chunk.sampleRate, sampleRate);
      }
      const out = converter ? converter.process(mono) : mono;
      produced += out.length;
      if (out.length) yield out;
    }
    const tail = converter?.flush();
    if (tail?.length) {
      produced += tail.length;
      yield tail;
    }
  } catch (err) {
    if (err instanceof AudioFileError) throw err;
    throw new AudioFileError(file, 'corrupt', `cannot decode ${format.toUpperCase()}: ${(err as Error).message}`);
  } finally {
    converter?.destroy();
  }
  if (produced === 0)
    throw new AudioFileError(file, 'corrupt', `no audio samples in this ${format.toUpperCase()} file`);
}

/**
 * The windows `windowsFor` would cut from the whole signal, produced while the signal streams in:
 * windows of `maxSamples` every `hop`, the last one aligned to the end.
 */
export async function* slidingWindows(
  chunks: AsyncIterable<Float32Array>,
  maxSamples: number,
  overlap: number,
): AsyncGenerator<{ offset: number; audio: Float32Array; total?: number }> {
  const hop = Math.max(1, Math.floor(maxSamples * (1 - overlap)));
  let buffer = new Float32Array(0);
  let bufferStart = 0; // stream position of buffer[0]
  let next = 0; // start of the next window to emit
  let total = 0;
  for await (const chunk of chunks) {
    const merged = new Float32Array(buffer.length + chunk.length);
    merged.set(buffer);
    merged.set(chunk, buffer.length);
    buffer = merged;
    total += chunk.length;
    // Emit a window only when more samples follow it: the final window is end-aligned instead.
    while (next + maxSamples < total) {
      yield { offset: next, audio: buffer.slice(next - bufferStart, next - bufferStart + maxSamples) };
      next += hop;
    }
    // Keep what later windows (and the end-aligned one) may still need.
    const keepFrom = Math.max(bufferStart, Math.min(next, total - maxSamples));
    if (keepFrom > bufferStart) {
      buffer = buffer.slice(keepFrom - bufferStart);
      bufferStart = keepFrom;
    }
  }
  const start = Math.max(0, total - maxSamples);
  yield { offset: start, audio: buffer.slice(start - bufferStart), total };
}
