/** Seconds as `2.91` below a minute and `1:02.50` above, for spans and cursors. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 60) return s.toFixed(2);
  const minutes = Math.floor(s / 60);
  return `${minutes}:${(s - minutes * 60).toFixed(2).padStart(5, '0')}`;
}

/** An utterance's span in recording time: `0.00–2.91 s`. */
export function formatSpan(start: number, end: number): string {
  return `${formatSeconds(start)}–${formatSeconds(end)} s`;
}

/** A length of audio for people: `12.3 s`, `1 min 57 s`, `2 h 5 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, seconds);
  if (s < 60) return `${s.toFixed(1)} s`;
  return formatEta(s);
}

/** A job's remaining time, rounded for people: `12 s`, `3 min 5 s`, `1 h 2 min`. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `#rrggbb` with an alpha, as `rgba()`, for translucent fills. */
export function withAlpha(hex: string, alpha: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The message of whatever a call threw, for showing to people. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Percentage of a job done, 0–100, or null when the total is not known yet. */
export function percent(done: number, total: number): number | null {
  return total > 0 ? Math.min(100, Math.floor((100 * done) / total)) : null;
}
