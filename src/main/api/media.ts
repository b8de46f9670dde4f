import { StudioError } from '../errors';
import type { Studio } from './studio';

/**
 * Media requests, the same for both transports: `utterances/<id>/clip.wav?context=<seconds>`.
 * Returns WAV bytes or throws a StudioError.
 */
export async function resolveMedia(studio: Studio, mediaPath: string): Promise<{ body: Buffer; contentType: string }> {
  const url = new URL(mediaPath.replace(/^\/+/, ''), 'media://x/');
  const match = /^\/utterances\/(\d+)\/clip\.wav$/.exec(url.pathname);
  if (!match) throw new StudioError('not_found', `No media at ${mediaPath}`);
  const context = Number(url.searchParams.get('context') ?? '0.5');
  if (!Number.isFinite(context) || context < 0 || context > 10) {
    throw new StudioError('invalid_request', 'context must be between 0 and 10 seconds');
  }
  return { body: await studio.waveforms.clip(Number(match[1]), context), contentType: 'audio/wav' };
}
