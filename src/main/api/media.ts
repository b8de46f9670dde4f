import type { MediaBody } from '../audio/waveform-service';
import { StudioError } from '../errors';
import type { Studio } from './studio';

export type { MediaBody };

/**
 * Media requests, the same for both transports: `utterances/<id>/clip.wav?context=<seconds>` (an
 * utterance with context) and `recordings/<id>/clip.wav?start=<s>&end=<s>` (a window of a recording).
 * Returns the media (its bytes made as they are read: a long clip is never whole in memory) or throws a
 * StudioError.
 */
export async function resolveMedia(studio: Studio, mediaPath: string): Promise<MediaBody> {
  const url = new URL(mediaPath.replace(/^\/+/, ''), 'media://x/');
  const range = /^\/recordings\/(\d+)\/clip\.wav$/.exec(url.pathname);
  if (range) {
    const [start, end] = ['start', 'end'].map((k) => Number(url.searchParams.get(k) ?? 'NaN')) as [number, number];
    if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0) {
      throw new StudioError('invalid_request', 'a recording clip needs start and end in seconds (start ≥ 0)');
    }
    return studio.waveforms.recordingClipMedia(Number(range[1]), start, end);
  }
  const match = /^\/utterances\/(\d+)\/clip\.wav$/.exec(url.pathname);
  if (!match) throw new StudioError('not_found', `No media at ${mediaPath}`);
  const context = Number(url.searchParams.get('context') ?? '0.5');
  if (!Number.isFinite(context) || context < 0 || context > 10) {
    throw new StudioError('invalid_request', 'context must be between 0 and 10 seconds');
  }
  return studio.waveforms.clipMedia(Number(match[1]), context);
}

/** Bytes sent per write when serving media. */
const MEDIA_CHUNK_BYTES = 1 << 20;

/**
 * What to send for a request's `Range` header (RFC 9110 single byte ranges): the whole body (200), a
 * range (206), or nothing satisfiable (416).
 */
export function mediaRange(
  rangeHeader: string | null | undefined,
  size: number,
): { status: 200 | 206; start: number; end: number } | { status: 416 } {
  const range = /^bytes=(\d*)-(\d*)$/.exec(rangeHeader ?? '');
  if (!range || (range[1] === '' && range[2] === '')) return { status: 200, start: 0, end: size };
  const start = Math.max(0, range[1] === '' ? size - Number(range[2]) : Number(range[1]));
  const last = Math.min(range[1] === '' || range[2] === '' ? size - 1 : Number(range[2]), size - 1);
  return start > last ? { status: 416 } : { status: 206, start, end: last + 1 };
}

/** The response headers for a range of the media that `mediaRange` allowed. */
export function mediaHeaders(
  media: MediaBody,
  range: { status: 200 | 206; start: number; end: number },
): Record<string, string> {
  return {
    'Content-Type': media.contentType,
    'Accept-Ranges': 'bytes',
    'Content-Length': String(range.end - range.start),
    ...(range.status === 206 ? { 'Content-Range': `bytes ${range.start}-${range.end - 1}/${media.size}` } : {}),
  };
}

/** The media's bytes [start, end) in chunks of at most 1 MiB, made as they are asked for. */
export async function* mediaChunks(media: MediaBody, start: number, end: number): AsyncGenerator<Buffer> {
  for (let at = start; at < end; at += MEDIA_CHUNK_BYTES)
    yield await media.read(at, Math.min(end, at + MEDIA_CHUNK_BYTES));
}
