import { StudioError } from '../errors';
import type { DecodedAudioCache } from './decoded-audio-cache';
import { readWavSegment } from './wav';

/** Mono samples [from, to) of a recording by sample index; outside the signal reads as silence. */
export type SampleReader = (from: number, to: number) => Promise<Float32Array>;

/**
 * A reader of a recording's mono samples by index: a PCM/float WAV's ranges straight from the file
 * (only what is asked is read), anything else from the decoded-audio cache (whole, or segment by
 * segment for a long recording). A recording that cannot
 * be read is a `not_found` StudioError naming it.
 */
export async function openSampleReader(
  rec: { path: string; format: string; fileName: string },
  audio: DecodedAudioCache,
): Promise<{ sampleRate: number; read: SampleReader }> {
  try {
    if (rec.format === 'wav') {
      const probe = await readWavSegment(rec.path, 0, 0);
      if (probe) {
        const sr = probe.sampleRate;
        const read: SampleReader = async (from, to) => {
          const out = new Float32Array(to - from);
          const lo = Math.max(0, from);
          if (to <= lo) return out;
          // readWavSegment takes seconds: ask a sample more each side, then place what came by index.
          const startS = Math.max(0, lo - 1) / sr;
          const got = await readWavSegment(rec.path, startS, (to + 1) / sr);
          if (!got) return out;
          const gotFrom = Math.max(0, Math.floor(startS * sr));
          for (let i = Math.max(lo, gotFrom); i < Math.min(to, gotFrom + got.samples.length); i++)
            out[i - from] = got.samples[i - gotFrom]!;
          return out;
        };
        return { sampleRate: sr, read };
      }
    }
    // decoded whole once, or for a long recording decoded forward as it is read
    return await audio.openMono(rec.path);
  } catch (err) {
    if (err instanceof StudioError) throw err;
    throw new StudioError(
      'not_found',
      `Recording ${rec.fileName} cannot be read: ${(err as Error).message} (${rec.path})`,
    );
  }
}
