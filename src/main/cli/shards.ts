import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** `--shard K/N`: this process predicts the items whose key hashes to K (0-based) of N. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(spec: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count))
    throw new Error(`--shard must be K/N with 0 <= K < N (e.g. 0/4, or $JOB_COMPLETION_INDEX/4), got ${spec}`);
  return { index, count };
}

/** An item's identity in a predictions JSONL: its path, and its segment if it has one. */
export function itemKey(line: { path: string; start?: number | null; end?: number | null }): string {
  return line.start != null || line.end != null ? `${line.path}\t${line.start ?? ''}\t${line.end ?? ''}` : line.path;
}

/**
 * The shard of a key: the first 8 bytes of its SHA-256, mod N. Depends on the key alone (not on the
 * order or number of other items), so every shard agrees without talking to the others, and adding
 * files to the corpus does not move finished items between shards.
 */
export function shardOf(key: string, count: number): number {
  if (count === 1) return 0;
  const h = createHash('sha256').update(key).digest();
  return Number(h.readBigUInt64BE(0) % BigInt(count));
}

/**
 * Keys already written to a shard's JSONL (predicted or failed), for resuming after a kill. A last
 * line cut off by the kill is removed from the file, so the run appends after the last whole line.
 */
export function finishedKeys(file: string): Set<string> {
  const done = new Set<string>();
  if (!fs.existsSync(file)) return done;
  const text = fs.readFileSync(file, 'utf8');
  const end = text.lastIndexOf('\n') + 1;
  if (end < text.length) fs.truncateSync(file, Buffer.byteLength(text.slice(0, end)));
  for (const line of text.slice(0, end).split('\n')) {
    if (!line.trim()) continue;
    try {
      done.add(itemKey(JSON.parse(line) as { path: string }));
    } catch {
      // a damaged line: its item is predicted again
    }
  }
  return done;
}

type Line = { path: string; start?: number | null; end?: number | null; [k: string]: unknown };

const compareLines = (a: Line, b: Line) =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : (a.start ?? -1) - (b.start ?? -1) || (a.end ?? -1) - (b.end ?? -1);

/**
 * Joins shard JSONL files: one line per item, sorted by path and segment. An item in two shards (a
 * rerun with another N) keeps its prediction over an error, else the later file's line.
 */
export function mergePredictionLines(files: readonly string[]): { lines: string[]; duplicates: number } {
  const byKey = new Map<string, { line: Line; raw: string }>();
  let duplicates = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    text.split('\n').forEach((raw, i) => {
      if (!raw.trim()) return;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        if (i === text.split('\n').length - 1) return; // cut off by a kill
        throw new Error(`${file}:${i + 1}: not a JSON line`);
      }
      if (typeof line.path !== 'string') throw new Error(`${file}:${i + 1}: no "path"`);
      const key = itemKey(line);
      const prev = byKey.get(key);
      if (prev) {
        duplicates++;
        if (prev.line.error === undefined && line.error !== undefined) return;
      }
      byKey.set(key, { line, raw });
    });
  }
  const lines = [...byKey.values()].sort((a, b) => compareLines(a.line, b.line)).map((e) => e.raw);
  return { lines, duplicates };
}
