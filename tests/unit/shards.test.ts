import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishedKeys, itemKey, mergePredictionLines, parseShard, shardOf } from '../../src/main/cli/shards';
import { tempDir } from '../helpers/fixtures';

describe('predict --shard', () => {
  it('parses K/N and refuses the rest', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['4/4', '1/0', 'a/4', '1', '-1/4']) expect(() => parseShard(bad)).toThrow(/--shard must be K\/N/);
  });

  it('puts every item in exactly one shard, by its key alone, roughly evenly', () => {
    const keys = Array.from({ length: 4000 }, (_, i) => `/corpus/spk${i % 37}/clip${i}.wav`);
    const counts = [0, 0, 0, 0];
    for (const k of keys) counts[shardOf(k, 4)]!++;
    expect(counts.reduce((a, b) => a + b)).toBe(keys.length);
    for (const c of counts) expect(c).toBeGreaterThan(900);
    // independent of order and of the other items
    expect(keys.map((k) => shardOf(k, 4))).toEqual(
      [...keys]
        .reverse()
        .map((k) => shardOf(k, 4))
        .reverse(),
    );
    expect(shardOf('/x.wav', 1)).toBe(0);
  });

  it('segments of one file are different items', () => {
    expect(itemKey({ path: '/a.wav' })).toBe('/a.wav');
    expect(itemKey({ path: '/a.wav', start: 1, end: 2 })).not.toBe(itemKey({ path: '/a.wav', start: 2, end: 3 }));
  });

  it('resume: finished keys from whole lines; a line cut off by a kill is removed', () => {
    const f = path.join(tempDir('shards-'), 'p.jsonl');
    fs.writeFileSync(f, '{"path":"/a.wav","label":"x"}\n{"path":"/b.wav","error":"bad"}\n{"path":"/c.w');
    expect([...finishedKeys(f)]).toEqual(['/a.wav', '/b.wav']);
    expect(fs.readFileSync(f, 'utf8')).toBe('{"path":"/a.wav","label":"x"}\n{"path":"/b.wav","error":"bad"}\n');
    expect(finishedKeys(path.join(path.dirname(f), 'none.jsonl')).size).toBe(0);
  });

  it('merge: sorted by path and segment, duplicates dropped (a prediction beats an error)', () => {
    const dir = tempDir('merge-');
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    fs.writeFileSync(a, '{"path":"/z.wav","label":"x"}\n{"path":"/m.wav","start":2,"end":3,"label":"y"}\n');
    fs.writeFileSync(b, '{"path":"/m.wav","start":0,"end":1,"label":"y"}\n{"path":"/z.wav","error":"e"}\n');
    const { lines, duplicates } = mergePredictionLines([a, b]);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { path: '/m.wav', start: 0, end: 1, label: 'y' },
      { path: '/m.wav', start: 2, end: 3, label: 'y' },
      { path: '/z.wav', label: 'x' },
    ]);
    expect(duplicates).toBe(1);
  });
});
