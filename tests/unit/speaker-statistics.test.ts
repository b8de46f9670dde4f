import { describe, expect, it } from 'vitest';
import { speakerStatistics } from '../../src/main/inference/speaker-statistics';

const row = (...v: number[]) => Float32Array.from(v);

describe('speakerStatistics', () => {
  it('gives each speaker the mean and population standard deviation of their utterances', () => {
    const out = speakerStatistics(
      [
        { speaker: 'a', statistics: row(1, 10) },
        { speaker: 'a', statistics: row(3, 10) },
        { speaker: 'b', statistics: row(0, -2) },
        { speaker: 'a', statistics: row(5, 10) },
        { speaker: 'b', statistics: row(4, 2) },
      ],
      2,
      2,
    );
    // a: mean (3, 10), population deviation (sqrt(8/3), 0)
    expect(Array.from(out.get('a')!)).toEqual([3, 10, Math.fround(Math.sqrt(8 / 3)), 0]);
    expect(Array.from(out.get('b')!)).toEqual([2, 0, 2, 2]);
  });

  it('leaves out speakers with fewer utterances than the model asks for', () => {
    const out = speakerStatistics(
      [
        { speaker: 'a', statistics: row(1) },
        { speaker: 'a', statistics: row(2) },
        { speaker: 'b', statistics: row(3) },
      ],
      1,
      2,
    );
    expect([...out.keys()]).toEqual(['a']);
  });

  it('refuses statistics of another width than model.json says', () => {
    expect(() => speakerStatistics([{ speaker: 'a', statistics: row(1, 2, 3) }], 2, 1)).toThrow(
      /statistics.onnx gave 3 values, model.json says 2/,
    );
  });
});
