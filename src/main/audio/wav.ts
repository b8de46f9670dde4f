/** RIFF/WAVE header inspection (to catch truncated files a decoder would silently accept) and PCM encoding. */

export interface WavLayout {
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
  let fmt: Pick<WavLayout, 'channels' | 'sampleRate' | 'bitsPerSample'> | null = null;
  while (at + 8 <= bytes.length) {
    const id = ascii(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= bytes.length) {
      fmt = {
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
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(44 + dataBytes);
  out.write('RIFF', 0, 'ascii');
  out.writeUInt32LE(36 + dataBytes, 4);
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
  out.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    out.writeInt16LE(Math.round(s < 0 ? s * 0x8000 : s * 0x7fff), 44 + i * 2);
  }
  return out;
}
