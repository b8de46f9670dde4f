/**
 * Sketches of core changes, measured beside the shipped code so a proposal comes with numbers. Nothing
 * in src/ uses these; each one is checked against the shipped result it would replace.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { encodeWav16, inspectWav, type WavLayout } from '../../src/main/audio/wav';

function readLayout(fd: number): WavLayout & { frames: number } {
  const head = Buffer.alloc(64 * 1024);
  const n = fs.readSync(fd, head, 0, head.length, 0);
  const layout = inspectWav(head.subarray(0, n));
  if (!layout || layout.bitsPerSample !== 16) throw new Error('what-if handles 16-bit PCM WAV only');
  const size = fs.fstatSync(fd).size;
  const dataBytes = Math.min(layout.declaredDataBytes, size - layout.dataOffset);
  return { ...layout, frames: Math.floor(dataBytes / (2 * layout.channels)) };
}

/**
 * Import without decoding the whole file: SHA-256 and max-abs peaks from 1 MiB reads of a 16-bit WAV.
 * Same checksum and peaks as decodeAudioFile + sha256 + computePeaks, in O(1 MiB) memory.
 */
export function streamWavChecksumAndPeaks(
  file: string,
  perSecond: number,
): { checksum: string; peaks: Float32Array; sampleRate: number; durationS: number } {
  const fd = fs.openSync(file, 'r');
  try {
    const layout = readLayout(fd);
    const ch = layout.channels;
    const frameBytes = 2 * ch;
    const hash = createHash('sha256');
    const head = Buffer.alloc(layout.dataOffset);
    fs.readSync(fd, head, 0, head.length, 0);
    hash.update(head);
    const binSize = layout.sampleRate / perSecond;
    const peaks = new Float32Array(Math.max(1, Math.ceil(layout.frames / binSize)));
    const chunk = Buffer.alloc(frameBytes * 256 * 1024);
    const samples = new Int16Array(chunk.buffer, chunk.byteOffset, chunk.length / 2);
    let pos = layout.dataOffset;
    const end = layout.dataOffset + layout.frames * frameBytes;
    let frame = 0;
    let bin = 0;
    let edge = Math.floor(binSize);
    let m = 0;
    while (pos < end) {
      const want = Math.min(chunk.length, end - pos);
      const n = fs.readSync(fd, chunk, 0, want, pos);
      if (n <= 0) break;
      hash.update(chunk.subarray(0, n));
      const count = (n / 2) | 0;
      for (let i = 0; i < count; i++) {
        if (i % ch === 0) {
          if (frame >= edge) {
            peaks[bin] = Math.min(1, m);
            bin++;
            edge = Math.floor((bin + 1) * binSize);
            m = 0;
          }
          frame++;
        }
        const s = samples[i]!;
        const v = s < 0 ? -s / 32768 : s / 32767;
        if (v > m) m = v;
      }
      pos += n;
    }
    if (bin < peaks.length) peaks[bin] = Math.min(1, m);
    // Whatever follows the data chunk is part of the file's checksum too.
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.alloc(1024 * 1024);
    while (pos < size) {
      const n = fs.readSync(fd, tail, 0, Math.min(tail.length, size - pos), pos);
      if (n <= 0) break;
      hash.update(tail.subarray(0, n));
      pos += n;
    }
    return {
      checksum: hash.digest('hex'),
      peaks,
      sampleRate: layout.sampleRate,
      durationS: layout.frames / layout.sampleRate,
    };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A playable clip read straight from the WAV's byte range (what WaveformService.clip makes after
 * decoding the whole recording): same bytes out, for the cost of one read.
 */
export function wavClipByRange(file: string, fromS: number, toS: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const layout = readLayout(fd);
    const ch = layout.channels;
    const from = Math.floor(Math.max(0, fromS) * layout.sampleRate);
    const to = Math.min(layout.frames, Math.ceil(toS * layout.sampleRate));
    const bytes = Buffer.alloc(Math.max(0, to - from) * 2 * ch);
    fs.readSync(fd, bytes, 0, bytes.length, layout.dataOffset + from * 2 * ch);
    const pcm = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
    const mono = new Float32Array(to - from);
    for (let f = 0; f < mono.length; f++) {
      let acc = 0;
      for (let c = 0; c < ch; c++) {
        const s = pcm[f * ch + c]!;
        acc += s < 0 ? s / 32768 : s / 32767;
      }
      mono[f] = ch === 1 ? acc : acc / ch;
    }
    return encodeWav16(mono, layout.sampleRate);
  } finally {
    fs.closeSync(fd);
  }
}

/** Largest absolute difference between two peak arrays (NaN when their lengths differ). */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return NaN;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/**
 * A 16-bit PCM WAV decoded straight from the bytes already read (the header is the one inspectWav
 * parses for the truncation check): no format sniffing, no copy of the input, same samples as
 * audio-decode.
 */
export function decodePcm16Wav(bytes: Uint8Array): { sampleRate: number; channels: Float32Array[] } {
  const layout = inspectWav(bytes);
  if (!layout || layout.bitsPerSample !== 16) throw new Error('what-if handles 16-bit PCM WAV only');
  const ch = layout.channels;
  const frames = Math.floor(Math.min(layout.declaredDataBytes, layout.availableDataBytes) / (2 * ch));
  const at = bytes.byteOffset + layout.dataOffset;
  const pcm =
    at % 2 === 0
      ? new Int16Array(bytes.buffer, at, frames * ch)
      : new Int16Array(bytes.slice(layout.dataOffset, layout.dataOffset + frames * ch * 2).buffer);
  const channels = Array.from({ length: ch }, () => new Float32Array(frames));
  for (let c = 0; c < ch; c++) {
    const out = channels[c]!;
    for (let f = 0, k = c; f < frames; f++, k += ch) {
      const s = pcm[k]!;
      out[f] = s < 0 ? s / 32768 : s / 32767;
    }
  }
  return { sampleRate: layout.sampleRate, channels };
}
