/**
 * Seeking in a FLAC file without decoding what comes before. Every FLAC frame header carries where
 * it starts (its frame number with a fixed block size, else its first sample's number) and a CRC-8,
 * so a bisection over byte offsets finds the frame holding a sample; frames decode independently, so
 * decoding restarts there with the stream's metadata fed first and needs no run-in. Frame headers are
 * recognised by the sync code, the stream's own channel layout and sample size, and the CRC-8.
 */
import fs from 'node:fs';
import { bisectBytes, SCAN_BYTES } from './byte-bisection';

export interface FlacStreamInfo {
  sampleRate: number;
  /** The block size when the stream uses a fixed one (min = max), else 0. */
  fixedBlockSize: number;
  /** Samples in the stream (0: unknown). */
  totalSamples: number;
  /** Where the metadata ends and the first frame starts. */
  headerEnd: number;
}

export interface FlacSeekPoint {
  headerEnd: number;
  /** Byte offset of the frame that holds the target, and the number of its first sample. */
  offset: number;
  firstSample: number;
}

const crc8Table = (() => {
  const table = new Uint8Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
    table[i] = c;
  }
  return table;
})();

/** The stream's STREAMINFO and where its frames start; null when this is not a FLAC file. */
export async function readFlacStreamInfo(handle: fs.promises.FileHandle): Promise<FlacStreamInfo | null> {
  const head = Buffer.alloc(64 * 1024);
  const { bytesRead } = await handle.read(head, 0, head.length, 0);
  let at = 0;
  if (head.toString('latin1', 0, 3) === 'ID3' && bytesRead >= 10)
    at = 10 + ((head[6]! << 21) | (head[7]! << 14) | (head[8]! << 7) | head[9]!);
  const magic = Buffer.alloc(4);
  await handle.read(magic, 0, 4, at);
  if (magic.toString('latin1') !== 'fLaC') return null;
  at += 4;
  let info: Omit<FlacStreamInfo, 'headerEnd'> | null = null;
  for (let last = false; !last;) {
    const block = Buffer.alloc(4);
    if ((await handle.read(block, 0, 4, at)).bytesRead < 4) return null;
    last = (block[0]! & 0x80) !== 0;
    const type = block[0]! & 0x7f;
    const length = block.readUIntBE(1, 3);
    if (type === 0) {
      const si = Buffer.alloc(34);
      await handle.read(si, 0, 34, at + 4);
      const minBlock = si.readUInt16BE(0);
      const maxBlock = si.readUInt16BE(2);
      const sampleRate = (si[10]! << 12) | (si[11]! << 4) | (si[12]! >> 4);
      const totalSamples = (si[13]! & 0x0f) * 2 ** 32 + si.readUInt32BE(14);
      info = { sampleRate, fixedBlockSize: minBlock === maxBlock ? minBlock : 0, totalSamples };
    }
    at += 4 + length;
    if (type === 127) return null;
  }
  return info ? { ...info, headerEnd: at } : null;
}

/** A FLAC file's sample rate from its STREAMINFO; 0 when it cannot be read. */
export async function flacSampleRate(file: string): Promise<number> {
  let handle: fs.promises.FileHandle | null = null;
  try {
    handle = await fs.promises.open(file, 'r');
    return (await readFlacStreamInfo(handle))?.sampleRate ?? 0;
  } catch {
    return 0;
  } finally {
    await handle?.close();
  }
}

interface FrameHeader {
  offset: number;
  firstSample: number;
  /** Channel assignment and sample size: the same in every frame of a stream. */
  layout: number;
}

/** The frame header at `i` of `b` (file offset `base + i`), checked by its CRC-8; null when there is none. */
function frameHeaderAt(b: Buffer, i: number, base: number, info: FlacStreamInfo): FrameHeader | null {
  if (b[i] !== 0xff || (b[i + 1]! & 0xfe) !== 0xf8 || i + 16 > b.length) return null;
  const variable = (b[i + 1]! & 1) === 1;
  const blockCode = b[i + 2]! >> 4;
  const rateCode = b[i + 2]! & 0x0f;
  const channels = b[i + 3]! >> 4;
  const sizeCode = (b[i + 3]! >> 1) & 7;
  if (blockCode === 0 || rateCode === 15 || channels > 10 || sizeCode === 3 || (b[i + 3]! & 1) !== 0) return null;
  // the UTF-8-style coded frame or sample number
  let at = i + 4;
  const lead = b[at]!;
  let extra = 0;
  let value: number;
  if (lead < 0x80) value = lead;
  else {
    for (let mask = 0x40; lead & mask; mask >>= 1) extra++;
    if (extra < 1 || extra > 6) return null;
    value = lead & (0x3f >> extra);
  }
  for (let k = 1; k <= extra; k++) {
    const c = b[at + k]!;
    if ((c & 0xc0) !== 0x80) return null;
    value = value * 64 + (c & 0x3f);
  }
  at += 1 + extra;
  if (blockCode === 6) at += 1;
  else if (blockCode === 7) at += 2;
  if (rateCode === 12) at += 1;
  else if (rateCode === 13 || rateCode === 14) at += 2;
  let crc = 0;
  for (let k = i; k < at; k++) crc = crc8Table[crc ^ b[k]!]!;
  if (crc !== b[at]) return null;
  if (!variable && !info.fixedBlockSize) return null;
  const firstSample = variable ? value : value * info.fixedBlockSize;
  if (info.totalSamples && firstSample >= info.totalSamples) return null;
  return { offset: base + i, firstSample, layout: b[i + 3]! };
}

/** The first frame header at or after `from` (before `limit`) with the stream's layout, or null. */
async function frameFrom(
  handle: fs.promises.FileHandle,
  info: FlacStreamInfo,
  layout: number,
  from: number,
  limit: number,
): Promise<FrameHeader | null> {
  const buf = Buffer.alloc(SCAN_BYTES);
  for (let at = from; at < limit;) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, at);
    if (bytesRead < 16) return null;
    const view = buf.subarray(0, bytesRead);
    for (let i = 0; i + 16 <= bytesRead; i++) {
      if (at + i >= limit) return null;
      const frame = frameHeaderAt(view, i, at, info);
      if (frame && frame.layout === layout) return frame;
    }
    at += bytesRead - 15;
  }
  return null;
}

/**
 * The frame holding sample `target` of a FLAC file, to restart decoding there. Null when the file
 * cannot be sought in (not FLAC, or its frames cannot be found) or the target is in the first frame.
 */
export async function findFlacSeekPoint(file: string, target: number): Promise<FlacSeekPoint | null> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const info = await readFlacStreamInfo(handle);
    if (!info) return null;
    const probe = Buffer.alloc(32);
    await handle.read(probe, 0, 32, info.headerEnd);
    const first = frameHeaderAt(probe, 0, info.headerEnd, info);
    if (!first || first.firstSample !== 0) return null;
    let lo = await bisectBytes(
      first,
      size,
      (frame) => frame.offset,
      (mid, hi) => frameFrom(handle, info, first.layout, mid, hi),
      (frame) => frame.firstSample <= target,
    );
    // walk on: the last frame that starts at or before the target
    for (;;) {
      const next = await frameFrom(handle, info, first.layout, lo.offset + 16, size);
      if (!next || next.firstSample > target || next.firstSample <= lo.firstSample) break;
      lo = next;
    }
    return lo.firstSample > 0 ? { headerEnd: info.headerEnd, offset: lo.offset, firstSample: lo.firstSample } : null;
  } finally {
    await handle.close();
  }
}
