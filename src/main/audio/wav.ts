import fs from 'node:fs/promises';

/** RIFF/WAVE header inspection (to catch truncated files a decoder would silently accept) and PCM encoding. */

export interface WavLayout {
  /** 1: integer PCM, 3: IEEE float (WAVE_FORMAT_EXTENSIBLE resolved to its sub-format). */
  encoding: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  dataOffset: number;
  declaredDataBytes: number;
  availableDataBytes: number;
}

const ascii = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

export function isRiffWave(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0) === 'RIFF' && ascii(bytes, 8) === 'WAVE';
}

/** Walks the chunks of a RIFF/WAVE file. Returns null when the file is not RIFF/WAVE. */
export function inspectWav(bytes: Uint8Array): WavLayout | null {
  if (!isRiffWave(bytes)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 12;
  let fmt: Pick<WavLayout, 'encoding' | 'channels' | 'sampleRate' | 'bitsPerSample'> | null = null;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      const tag = view.getUint16(body, true);
      const extensible = tag === 0xfffe && size >= 26 && body + 26 <= bytes.length;
      fmt = {
        encoding: extensible ? view.getUint16(body + 24, true) : tag,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    }
    if (id === 'data') {
      if (!fmt) return null;
      // 0xFFFFFFFF / 0 sizes are used by streaming writers that never patched the header.
      const streaming = size === 0xffffffff || size === 0;
      const available = bytes.length - body;
      return {
        ...fmt,
        dataOffset: body,
        declaredDataBytes: streaming ? available : size,
        availableDataBytes: available,
      };
    }
    at = body + size + (size % 2);
  }
  return null;
}

/** 16-bit PCM mono WAV. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Buffer {
  return Buffer.concat([wavHeader16(samples.length, sampleRate), pcm16(samples)]);
}

/** The 44-byte header of a 16-bit mono PCM WAV holding `frames` samples at `sampleRate`. */
export function wavHeader16(frames: number, sampleRate: number): Buffer {
  const dataBytes = frames * 2;
  const out = Buffer.alloc(44);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  out.write('WAVE', 8, 'ascii');
  out.write('fmt ', 12, 'ascii');
  out.writeUInt32LE(16, 16);
  out.writeUInt16LE(1, 20); // PCM
  out.writeUInt16LE(1, 22); // mono
  out.writeUInt32LE(sampleRate, 24);
  out.writeUInt32LE(sampleRate * 2, 28);
  out.writeUInt16LE(2, 32);
  out.writeUInt16LE(16, 34);
  out.write('data', 36, 'ascii');
  out.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return out;
}

/** Float samples as 16-bit little-endian PCM (clipped to [-1, 1]). */
export function pcm16(samples: Float32Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    out.writeInt16LE(Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), i * 2);
  }
  return out;
}

/** The raw interleaved frames of [start, end) seconds of a WAV, read straight from the file. */
export interface WavFrames {
  layout: WavLayout;
  /** Frames read (whole frames of `layout.channels` samples). */
  frames: number;
  /** An aligned copy of those frames' bytes, so typed arrays can view it (little-endian host). */
  raw: ArrayBuffer;
}

/**
 * Reads the frames of [start, end) seconds from a WAV without touching the rest of the file; the range
 * is clamped to the data the file really holds. Null when the header is not a WAV that `inspectWav`
 * understands or `accept` refuses its layout. Each caller converts the samples its own way.
 */
export async function readWavFrames(
  file: string,
  start: number,
  end: number,
  accept: (layout: WavLayout) => boolean,
): Promise<WavFrames | null> {
  const handle = await fs.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = new Uint8Array(Math.min(size, 64 * 1024));
    await handle.read(head, 0, head.length, 0);
    const layout = inspectWav(head);
    if (!layout || layout.channels < 1 || !accept(layout)) return null;
    const frameBytes = (layout.bitsPerSample / 8) * layout.channels;
    const total = Math.floor(Math.min(layout.declaredDataBytes, size - layout.dataOffset) / frameBytes);
    const from = Math.min(total, Math.max(0, Math.floor(start * layout.sampleRate)));
    const to = Math.min(total, Math.max(from, Math.ceil(end * layout.sampleRate)));
    const raw = new ArrayBuffer((to - from) * frameBytes);
    await handle.read(new Uint8Array(raw), 0, raw.byteLength, layout.dataOffset + from * frameBytes);
    return { layout, frames: to - from, raw };
  } finally {
    await handle.close();
  }
}

/**
 * Reads [start, end) seconds of an integer-PCM (16/24/32-bit) or float WAV straight from the file,
 * averaged to mono, without decoding the rest. Null when the file is some other WAV encoding.
 */
export async function readWavSegment(
  file: string,
  start: number,
  end: number,
): Promise<{ sampleRate: number; samples: Float32Array } | null> {
  const read = await readWavFrames(
    file,
    start,
    end,
    ({ encoding, bitsPerSample: bits }) =>
      (encoding === 1 && (bits === 16 || bits === 24 || bits === 32)) || (encoding === 3 && bits === 32),
  );
  if (!read) return null;
  const { encoding, bitsPerSample: bits, channels, sampleRate } = read.layout;
  const float = encoding === 3;
  const bytesPerSample = bits / 8;
  const frameBytes = bytesPerSample * channels;
  const raw = Buffer.from(read.raw);
  const samples = new Float32Array(read.frames);
  const scale = 1 / channels;
  for (let i = 0; i < samples.length; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) {
      const at = i * frameBytes + c * bytesPerSample;
      if (float) sum += raw.readFloatLE(at);
      else if (bits === 16) sum += raw.readInt16LE(at) / 0x8000;
      else if (bits === 24) sum += raw.readIntLE(at, 3) / 0x800000;
      else sum += raw.readInt32LE(at) / 0x80000000;
    }
    samples[i] = sum * scale;
  }
  return { sampleRate, samples };
}
