/**
 * Seeking in an MP3 file without decoding what comes before: an index of its frames' byte offsets,
 * built once by hopping from frame header to frame header (no decoding: a 10-hour file is read once
 * at disk speed), and the sample each frame starts at. MPEG Layer III frames hold a fixed number of
 * samples (1152, or 576 for MPEG-2/2.5), so audio frame k starts at k × that, less what the decoder
 * drops at the start of the file; that is measured on the file itself (its first 50 frames decoded
 * from the start and from the first audio frame), so it holds whether or not the file has a
 * LAME/Info tag with encoder delay. A decode restarted at a frame needs about ten frames of run-in
 * (the bit reservoir and the overlap of the transform): the caller decodes and drops them.
 * Measured: after 10 frames the samples equal the whole decode's (docs/benchmarks.md).
 */
import fs from 'node:fs';
import { decoder as mp3Decoder } from '@audio/decode-mp3';

/** Frames decoded and dropped before a seek target (the bit reservoir and the transform's overlap). */
export const MP3_RUN_IN_FRAMES = 10;

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface FrameHeader {
  length: number;
  samples: number;
  sampleRate: number;
  /** MPEG version bits and channel mode: frames of one stream all share them. */
  kind: number;
  mono: boolean;
  mpeg1: boolean;
}

/** The Layer III frame header at `i` of `b`, or null. */
function frameHeader(b: Uint8Array, i: number): FrameHeader | null {
  if (i + 4 > b.length || b[i] !== 0xff || (b[i + 1]! & 0xe0) !== 0xe0) return null;
  const version = (b[i + 1]! >> 3) & 3;
  const layer = (b[i + 1]! >> 1) & 3;
  const bitrateIndex = b[i + 2]! >> 4;
  const rateIndex = (b[i + 2]! >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const sampleRate = RATES[version]![rateIndex]!;
  const bitrate = (mpeg1 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex]! * 1000;
  const padding = (b[i + 2]! >> 1) & 1;
  const mono = b[i + 3]! >> 6 === 3;
  return {
    length: Math.floor(((mpeg1 ? 144 : 72) * bitrate) / sampleRate) + padding,
    samples: mpeg1 ? 1152 : 576,
    sampleRate,
    kind: (version << 4) | (rateIndex << 2) | (mono ? 1 : 0),
    mono,
    mpeg1,
  };
}

/**
 * A Xing/Info metadata frame (it holds no audio): null when `frame` is an audio frame, else the
 * encoder delay and padding its LAME tag gives (null fields without one).
 */
function infoFrame(frame: Buffer, header: FrameHeader): { delay: number | null; padding: number | null } | null {
  let at = 4 + (header.mpeg1 ? (header.mono ? 17 : 32) : header.mono ? 9 : 17);
  const tag = frame.toString('latin1', at, at + 4);
  if (tag !== 'Xing' && tag !== 'Info') return null;
  if (frame.length < at + 8) return { delay: null, padding: null };
  const flags = frame.readUInt32BE(at + 4);
  at += 8 + (flags & 1 ? 4 : 0) + (flags & 2 ? 4 : 0) + (flags & 4 ? 100 : 0) + (flags & 8 ? 4 : 0);
  // the LAME tag (also written by ffmpeg's "Lavc"/"Lavf"): delay and padding, 12 bits each, at +21
  const encoder = frame.toString('latin1', at, at + 4);
  if (!['LAME', 'Lavc', 'Lavf', 'L3.9', 'GOGO'].includes(encoder) || frame.length < at + 24)
    return { delay: null, padding: null };
  const b = frame.subarray(at + 21, at + 24);
  return { delay: (b[0]! << 4) | (b[1]! >> 4), padding: ((b[1]! & 0x0f) << 8) | b[2]! };
}

export interface Mp3Index {
  sampleRate: number;
  samplesPerFrame: number;
  /** Byte offsets of the audio frames, in order (the Info frame, if any, not counted). */
  offsets: Float64Array;
  /** Samples the decoder drops at the start of the file (encoder and decoder delay, when it knows them). */
  startTrim: number;
  /** Where the first audio frame's bytes start, and where the header bytes before it end. */
  firstAudio: number;
  /**
   * Samples the whole decode gives (the encoder's padding trimmed at the end), when the LAME tag says
   * it; null otherwise.
   */
  totalSamples: number | null;
}

/**
 * Builds the frame index of an MP3 file (ID3v2 skipped). Null when the file is not a plain Layer III
 * stream of one sample rate and mode (anything else is decoded from the start, as before).
 */
export async function buildMp3Index(file: string): Promise<Mp3Index | null> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 1 << 16));
    await handle.read(head, 0, head.length, 0);
    let at = 0;
    if (head.toString('latin1', 0, 3) === 'ID3' && head.length >= 10)
      at = 10 + ((head[6]! << 21) | (head[7]! << 14) | (head[8]! << 7) | head[9]!) + (head[5]! & 0x10 ? 10 : 0);
    // the first frame: a header whose next frame's header follows it (not a stray 0xFFE in a tag)
    const window = Buffer.alloc(1 << 16);
    let first: FrameHeader | null = null;
    for (let scanned = 0; !first && at < size && scanned < 1 << 20;) {
      const { bytesRead } = await handle.read(window, 0, window.length, at);
      if (bytesRead < 8) return null;
      let found = -1;
      for (let i = 0; i + 4 <= bytesRead; i++) {
        const h = frameHeader(window, i);
        if (!h) continue;
        const next = Buffer.alloc(4);
        await handle.read(next, 0, 4, at + i + h.length);
        const n = frameHeader(next, 0);
        if (n && n.kind === h.kind) {
          found = i;
          first = h;
          break;
        }
      }
      if (found >= 0) at += found;
      else {
        at += bytesRead - 3;
        scanned += bytesRead;
      }
    }
    if (!first) return null;

    let offsets = new Float64Array(1 << 16);
    let count = 0;
    let firstAudio = -1;
    let info: { delay: number | null; padding: number | null } | null = null;
    const chunk = Buffer.alloc(1 << 20);
    let chunkStart = -1;
    let chunkLength = 0;
    while (at + 4 <= size) {
      if (chunkStart < 0 || at + 4 > chunkStart + chunkLength || at < chunkStart) {
        chunkStart = at;
        chunkLength = (await handle.read(chunk, 0, chunk.length, at)).bytesRead;
        if (chunkLength < 4) break;
      }
      const h = frameHeader(chunk, at - chunkStart);
      if (!h || h.kind !== first.kind) break; // the end, a trailing tag, or damage: the index stops here
      if (firstAudio < 0) {
        const frame = Buffer.alloc(h.length);
        await handle.read(frame, 0, frame.length, at);
        const tag = infoFrame(frame, h);
        if (tag) info = tag;
        else firstAudio = at;
      }
      if (firstAudio >= 0) {
        if (count === offsets.length) {
          const grown = new Float64Array(offsets.length * 2);
          grown.set(offsets);
          offsets = grown;
        }
        offsets[count++] = at;
      }
      at += h.length;
    }
    if (count < 60) return null;
    offsets = offsets.slice(0, count);

    // What the decoder drops at the start: 50 frames from the file's start against the same frames
    // decoded from the first audio frame on (no tags, so nothing dropped).
    const end = offsets[50]!;
    const fromStart = Buffer.alloc(end);
    await handle.read(fromStart, 0, end, 0);
    const decodedLength = async (bytes: Uint8Array) => {
      const dec = await mp3Decoder();
      try {
        return dec.decode(bytes).channelData[0]?.length ?? 0;
      } finally {
        dec.free();
      }
    };
    const whole = await decodedLength(fromStart);
    const bare = await decodedLength(fromStart.subarray(firstAudio));
    return {
      sampleRate: first.sampleRate,
      samplesPerFrame: first.samples,
      offsets,
      startTrim: bare - whole,
      firstAudio,
      totalSamples:
        info?.delay != null && info.padding != null ? count * first.samples - info.delay - info.padding : null,
    };
  } finally {
    await handle.close();
  }
}

/** Where to restart decoding for sample `target` (the whole decode's index): a frame offset and its first sample's index. */
export function mp3SeekPoint(
  index: Mp3Index,
  target: number,
): { offset: number; firstSample: number; exactFrom: number } | null {
  const frame = Math.floor((target + index.startTrim) / index.samplesPerFrame) - MP3_RUN_IN_FRAMES;
  if (frame <= 0 || frame >= index.offsets.length) return null;
  const firstSample = frame * index.samplesPerFrame - index.startTrim;
  return {
    offset: index.offsets[frame]!,
    firstSample,
    exactFrom: firstSample + MP3_RUN_IN_FRAMES * index.samplesPerFrame,
  };
}
