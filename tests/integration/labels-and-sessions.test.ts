import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { Studio } from '../../src/main/api/studio';
import type { ImportReport, Label } from '../../src/shared/contract';
import fs from 'node:fs';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('label names', () => {
  it('are NFC-normalised, unique under Unicode case folding, and refuse control and bidi characters', async () => {
    const { studio } = openTempStudio();
    open.push(studio);
    const call = (input: unknown) => invokeOperation(createHandlers(studio), 'saveLabel', input);
    const add = (name: string) => call({ name, color: '#123456', hotkey: null }) as Promise<Label[]>;
    const labels = await add('e\u0301nerve'); // e + combining acute
    expect(labels.at(-1)!.name).toBe('\u00e9nerve');
    await expect(add('\u00e9nerve')).rejects.toThrow(/A label named "énerve" already exists/);
    await expect(add('\u00c9NERVE')).rejects.toThrow(/already exists/);
    await add('Straße');
    await expect(add('STRASSE')).rejects.toThrow(/A label named "Straße" already exists/);
    await expect(add('sad\u202Eyppah')).rejects.toThrow(
      /cannot contain bidirectional control characters \(U\+202E\): they can make it display as another name/,
    );
    await expect(add('a\u0000b')).rejects.toThrow(/cannot contain control characters \(U\+0000\)/);
    expect(studio.store.labels.list().map((l) => l.name)).toEqual([
      'neutral',
      'happy',
      'angry',
      'sad',
      'énerve',
      'Straße',
    ]);
  });

  it('are checked the same way when a manifest brings them', async () => {
    const { studio } = openTempStudio();
    open.push(studio);
    const dir = tempDir();
    const [a, b, c] = copyInto(dir, demoClips('spk_a', 3));
    const manifest = path.join(dir, 'm.jsonl');
    fs.writeFileSync(
      manifest,
      [
        { path: a, label: 'HAPPY' },
        { path: b, label: 'e\u0301nerve' },
        { path: c, label: 'bad\u202Ename' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const report = (await runImport(studio, manifest)).result as ImportReport;
    expect(report.labelsAdded).toEqual(['\u00e9nerve']);
    expect(report.failures).toEqual([
      { path: 'm.jsonl:3', reason: expect.stringMatching(/^label not imported: .*bidirectional/) },
    ]);
    expect(report.recordingsAdded).toBe(3);
  });
});

describe('the annotator belongs to the session', () => {
  it("one window's undo never reverts another window's edit on the same project", async () => {
    const { studio: first, file } = openTempStudio();
    const corpus = tempDir();
    copyInto(corpus, demoClips('spk_b', 2));
    await runImport(first, corpus);
    const second = Studio.open(file);
    open.push(first, second);
    const [u1, u2] = first.store.rows().map((r) => r.id);
    const alice = createHandlers(first);
    const bob = createHandlers(second);
    await invokeOperation(alice, 'setAnnotator', { annotator: 'alice' });
    await invokeOperation(bob, 'setAnnotator', { annotator: 'bob' });
    await invokeOperation(alice, 'setLabel', { utteranceId: u1, labelId: 1 });
    await invokeOperation(bob, 'setLabel', { utteranceId: u2, labelId: 2 });
    expect(first.store.annotator).toBe('alice');
    const undone = (await invokeOperation(alice, 'undo', {})) as { row: { id: number } };
    expect(undone.row.id).toBe(u1);
    expect(second.store.annotations.get(u2!, 'human', 'bob')?.labelId).toBe(2);
    expect(first.store.annotations.get(u1!, 'human', 'alice')).toBeUndefined();
    expect(await invokeOperation(alice, 'undo', {})).toEqual({ row: null });
  });
});
