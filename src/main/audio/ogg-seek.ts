/**
 * Seeking in an Ogg Opus file without decoding what comes before (RFC 3533 pages, RFC 7845 §4.6):
 * bisection over byte offsets on the pages' granule positions, then a short forward scan for a page
 * that starts a fresh packet (no continuation from the page before), so that the page before it gives
 * the exact sample position its first packet starts at. Pages are recognised by their capture pattern
 * and checked by their CRC, so "OggS" bytes inside packet data never pass for a page.
 *
 * Decoding restarts there with the stream's headers fed first (ogg-opus.ts, `startGranule`); libopus
 * needs about 80 ms of pre-roll after a jump to converge (RFC 7845 §4.6), which the caller decodes and
 * drops. Only single-stream files are sought in: a page of another logical stream (a chained file)
 * makes the seek give up, and the caller decodes from the start as before.
 */
import fs from 'node:fs';
import { bisectBytes, SCAN_BYTES } from './byte-bisection';

/** The pre-roll RFC 7845 recommends after a seek, in 48 kHz samples (80 ms). */
export const OPUS_PREROLL_48K = 3840;

export interface OggPageInfo {
  offset: number;
  size: number;
  /** -1 when no packet ends on the page. */
  granule: number;
  serial: number;
  /** The page's first packet continues one from the page before. */
  continued: boolean;
}

/** Where decoding can restart: the header pages' bytes end at `headerEnd`; audio resumes at `offset`. */
export interface OggOpusSeekPoint {
  headerEnd: number;
  offset: number;
  /** Granule position (48 kHz, pre-skip included) at the start of the page at `offset`. */
  startGranule: number;
  preSkip: number;
}

let crcTable: Uint32Array | null = null;
function oggCrc(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let r = i << 24;
      for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
      crcTable[i] = r >>> 0;
    }
  }
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    // bytes 22..25 are the CRC field itself, counted as zeros
    const b = i >= 22 && i < 26 ? 0 : bytes[i]!;
    crc = ((crc << 8) ^ crcTable[((crc >>> 24) ^ b) & 0xff]!) >>> 0;
  }
  return crc;
}

/** Reads Ogg pages of one open file. */
export class OggPageReader {
  private constructor(
    private readonly handle: fs.promises.FileHandle,
    readonly size: number,
  ) {}

  static async open(file: string): Promise<OggPageReader> {
    const handle = await fs.promises.open(file, 'r');
    const { size } = await handle.stat();
    return new OggPageReader(handle, size);
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /** The first valid page starting at or after `from` and before `limit` (default: the end), or null. */
  async pageFrom(from: number, limit = this.size): Promise<OggPageInfo | null> {
    for (let at = from; at < Math.min(limit, this.size);) {
      const buf = Buffer.alloc(Math.min(SCAN_BYTES, this.size - at));
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, at);
      if (bytesRead < 27) return null;
      for (let i = 0; i + 27 <= bytesRead; i++) {
        if (buf[i] !== 0x4f || buf[i + 1] !== 0x67 || buf[i + 2] !== 0x67 || buf[i + 3] !== 0x53) continue;
        if (at + i >= limit) return null;
        const page = await this.pageAt(at + i);
        if (page) return page;
      }
      // a page could start in the last 26 bytes read: look again from there
      at += Math.max(1, bytesRead - 26);
    }
    return null;
  }

  /** The page starting exactly at `offset`, or null when there is none (bad pattern, version or CRC). */
  async pageAt(offset: number): Promise<OggPageInfo | null> {
    const head = Buffer.alloc(27 + 255);
    const { bytesRead } = await this.handle.read(head, 0, head.length, offset);
    if (bytesRead < 27 || head.toString('latin1', 0, 4) !== 'OggS' || head[4] !== 0) return null;
    const segments = head[26]!;
    if (bytesRead < 27 + segments) return null;
    let body = 0;
    for (let i = 0; i < segments; i++) body += head[27 + i]!;
    const size = 27 + segments + body;
    if (offset + size > this.size) return null;
    const bytes = Buffer.alloc(size);
    await this.handle.read(bytes, 0, size, offset);
    if (oggCrc(bytes) !== bytes.readUInt32LE(22)) return null;
    return {
      offset,
      size,
      granule: Number(bytes.readBigInt64LE(6)),
      serial: bytes.readUInt32LE(14),
      continued: (bytes[5]! & 0x01) !== 0,
    };
  }

  /** The bytes [from, to) of the file. */
  async bytes(from: number, to: number): Promise<Buffer> {
    const out = Buffer.alloc(Math.max(0, to - from));
    await this.handle.read(out, 0, out.length, from);
    return out;
  }
}

/**
 * Where to restart decoding an Ogg Opus file so that its output reaches the sample `target48`
 * (48 kHz units, pre-skip not counted) with at least the pre-roll decoded before it. Null when the
 * file cannot be sought in (not Ogg Opus, several logical streams, damaged pages) or when the target
 * is so early that decoding from the start is as quick.
 */
export async function findOggOpusSeekPoint(reader: OggPageReader, target48: number): Promise<OggOpusSeekPoint | null> {
  const first = await reader.pageAt(0);
  if (!first) return null;
  const head = await reader.bytes(0, first.size);
  const segments = head[26]!;
  const packet = head.subarray(27 + segments);
  if (packet.toString('latin1', 0, 8) !== 'OpusHead') return null;
  const preSkip = packet.readUInt16LE(10);
  // The comment header ends on the first page after the ID page with granule position 0 (RFC 7845 §5.2).
  let at = first.offset + first.size;
  let headerEnd = -1;
  for (let n = 0; n < 64 && headerEnd < 0; n++) {
    const page = await reader.pageAt(at);
    if (!page || page.serial !== first.serial) return null;
    at = page.offset + page.size;
    if (page.granule === 0) headerEnd = at;
  }
  if (headerEnd < 0) return null;
  const goal = target48 + preSkip - OPUS_PREROLL_48K;
  if (goal <= preSkip) return null;

  // Bisection: `lo` is the offset of a page whose granule is at most the goal (or of the first audio page).
  let foreign = false;
  const lo = await bisectBytes(
    headerEnd,
    reader.size,
    (offset) => offset,
    async (mid, hi) => {
      let page = await reader.pageFrom(mid, hi);
      // pages on which no packet ends say nothing: take the next one
      while (page && page.granule === -1) page = await reader.pageFrom(page.offset + page.size, hi);
      if (page && page.serial !== first.serial) foreign = true;
      return page && !foreign && page.granule <= goal ? page.offset : null;
    },
    () => !foreign,
  );
  if (foreign) return null;

  // Walk forward from `lo`: the last page that starts fresh after a page ending at or before the goal.
  let best: OggOpusSeekPoint | null = null;
  let previous: OggPageInfo | null = null;
  for (let page = await reader.pageAt(lo); page; page = await reader.pageAt(page.offset + page.size)) {
    if (page.serial !== first.serial) return null;
    if (previous && previous.granule >= 0 && previous.granule <= goal && !page.continued)
      best = { headerEnd, offset: page.offset, startGranule: previous.granule, preSkip };
    if (page.granule > goal) break;
    previous = page;
  }
  return best;
}
