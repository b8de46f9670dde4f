/** Averages channels into one. */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]!;
  const k = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i]! *= k;
  return out;
}

/** Mono samples of [start, end) seconds of decoded audio (clamped to the signal). */
export function monoSegment(
  audio: { channels: readonly Float32Array[]; sampleRate: number },
  start: number,
  end: number,
): Float32Array {
  const mono = downmix(audio.channels);
  const from = Math.max(0, Math.floor(start * audio.sampleRate));
  const to = Math.min(mono.length, Math.ceil(end * audio.sampleRate));
  return mono.slice(from, Math.max(from, to));
}

/**
 * Max-abs peaks, `perSecond` bins a second, over all channels. Values in 0..1; what wavesurfer draws
 * when given precomputed peaks.
 */
export function computePeaks(channels: readonly Float32Array[], sampleRate: number, perSecond: number): Float32Array {
  const length = channels[0]?.length ?? 0;
  const binSize = sampleRate / perSecond;
  const bins = Math.max(1, Math.ceil(length / binSize));
  const peaks = new Float32Array(bins);
  for (const c of channels) {
    for (let b = 0; b < bins; b++) {
      const from = Math.floor(b * binSize);
      const to = Math.min(length, Math.floor((b + 1) * binSize));
      let m = peaks[b]!;
      for (let i = from; i < to; i++) {
        const v = Math.abs(c[i]!);
        if (v > m) m = v;
      }
      peaks[b] = Math.min(1, m);
    }
  }
  return peaks;
}

/** The parts one after the other in one array (the part itself when there is one). */
export function concatSamples(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
