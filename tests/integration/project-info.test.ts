import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Studio } from '../../src/main/api/studio';
import { encodeWav16 } from '../../src/main/audio/wav';
import { openTempStudio } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('project info of the first screen', () => {
  it('lists the distinct speakers of live utterances, in order, once each', () => {
    const { studio, dir } = openTempStudio();
    open.push(studio);
    const { store } = studio;
    const wav = path.join(dir, 'a.wav');
    fs.writeFileSync(wav, encodeWav16(new Float32Array(1600), 16000));
    const recordingId = store.recordings.insert({
      path: wav,
      fileName: 'a.wav',
      sizeBytes: 1,
      checksum: 'x',
      format: 'wav',
      durationS: 100,
      sampleRate: 16000,
      channels: 1,
      peaksPerSecond: 1,
      peaks: new Float32Array(1),
    });
    // 'cy' only on removed utterances; 'bo' removed first, live later; 'Ana' and 'ana' differ.
    const speakers = ['bo', 'ana', null, 'cy', 'bo', 'Ana', 'ed', 'ana', 'bo', null];
    const removed = new Set([0, 3, 6]);
    const ids = speakers.map((speaker, i) =>
      store.utterances.insert({ recordingId, start: i, end: i + 0.5, speaker, transcript: '' }),
    );
    for (const [i, id] of ids.entries())
      if (removed.has(i)) store.db.prepare('UPDATE utterances SET removed_at = ? WHERE id = ?').run('now', id);
    expect(store.utterances.speakers()).toEqual(['Ana', 'ana', 'bo']);
    expect(studio.info().speakers).toEqual(['Ana', 'ana', 'bo']);
    store.db.prepare('UPDATE utterances SET removed_at = NULL').run();
    expect(store.utterances.speakers()).toEqual(['Ana', 'ana', 'bo', 'cy', 'ed']);
    store.db.prepare('UPDATE utterances SET removed_at = ?').run('now');
    expect(store.utterances.speakers()).toEqual([]);
  });
});
