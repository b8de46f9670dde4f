import { StudioError } from '../errors';
import type { Studio } from './studio';

/**
 * Media requests, the same for both transports: `utterances/<id>/clip.wav?context=<seconds>` (an
 * utterance with context) and `recordings/<id>/clip.wav?start=<s>&end=<s>` (a window of a recording).
 * Returns WAV bytes or throws a StudioError.
 */
export async function resolveMedia(studio: Studio, mediaPath: string): Promise<{ body: Buffer; contentType: string }> {
  const url = new URL(mediaPath.replace(/^\/+/, ''), 'media://x/');
  const range = /^\/recordings\/(\d+)\/clip\.wav$/.exec(url.pathname);
  if (range) {
    const [start, end] = ['start', 'end'].map((k) => Number(url.searchParams.get(k) ?? 'NaN')) as [number, number];
    if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0) {
      throw new StudioError('invalid_request', 'a recording clip needs start and end in seconds (start ≥ 0)');
    }
    return { body: await studio.waveforms.recordingClip(Number(range[1]), start, end), contentType: 'audio/wav' };
  }
  const match = /^\/utterances\/(\d+)\/clip\.wav$/.exec(url.pathname);
  if (!match) throw new StudioError('not_found', `No media at ${mediaPath}`);
  const context = Number(url.searchParams.get('context') ?? '0.5');
  if (!Number.isFinite(context) || context < 0 || context > 10) {
    throw new StudioError('invalid_request', 'context must be between 0 and 10 seconds');
  }
  return { body: await studio.waveforms.clip(Number(match[1]), context), contentType: 'audio/wav' };
}
