import { describe, expect, it } from 'vitest';
import type { UtteranceRow } from '../../../../shared/contract';
import { ApiError } from '../api/api-error';
import { deferred, FakeClient, row } from '../testing/fake-client';
import { EditQueue } from './edit-queue.svelte';
import { ListState } from './list-state.svelte';
import { Messages } from './messages.svelte';

const ROWS = [row(1), row(2)];

async function setup(options: { connection?: boolean } = {}) {
  const fake = new FakeClient(
    {
      listUtterances: () => ({ rows: ROWS, total: 2, filtered: 2, offset: 0 }),
      getProjectInfo: () => info('/p/a.wavfusion'),
    },
    options,
  );
  const list = new ListState(fake.client);
  await list.load();
  const messages = new Messages();
  let settled = 0;
  const queue = new EditQueue(fake.client, list, messages, () => settled++);
  return { fake, list, messages, queue, settled: () => settled };
}

function info(path: string) {
  return {
    name: 'p',
    path,
    schemaVersion: 9,
    appVersion: '0',
    counts: { recordings: 2, utterances: 2, labelled: 0, missingRecordings: 0 },
    speakers: [],
    annotator: 'ana',
    model: null,
    inference: null,
  };
}

const label = (fake: FakeClient, before: UtteranceRow, labelId: number) =>
  fake.client.setLabel({ utteranceId: before.id, labelId });

describe('EditQueue', () => {
  it('sends edits one after another in the order they were made, and shows each at once', async () => {
    const { fake, list, queue, settled } = await setup();
    const answers = [deferred<{ row: UtteranceRow }>(), deferred<{ row: UtteranceRow }>()];
    const sent: number[] = [];
    fake.handle({
      setLabel: ({ utteranceId, labelId }) => {
        sent.push(utteranceId);
        return answers[sent.length - 1]!.promise.then(() => ({ row: row(utteranceId, { labelId }) }));
      },
    });
    const first = queue.edit(ROWS[0]!, { ...ROWS[0]!, labelId: 4 }, () => label(fake, ROWS[0]!, 4));
    const second = queue.edit(ROWS[1]!, { ...ROWS[1]!, labelId: 5 }, () => label(fake, ROWS[1]!, 5));
    expect(list.rowById(1)?.labelId).toBe(4);
    expect(list.rowById(2)?.labelId).toBe(5);
    expect(queue.saveSummary).toEqual({ state: 'saving' });
    expect(queue.unsaved).toBe(2);
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([1]); // the second waits for the first's answer
    answers[0]!.resolve({ row: row(1) });
    await first;
    answers[1]!.resolve({ row: row(2) });
    await second;
    expect(sent).toEqual([1, 2]);
    expect(queue.saveStates.get(1)).toEqual({ state: 'saved' });
    expect(queue.saveSummary).toEqual({ state: 'saved' });
    expect(settled()).toBe(2);
  });

  it('puts the row back and says why when the core refuses an edit', async () => {
    const { fake, list, messages, queue } = await setup();
    fake.handle({
      setLabel: () => {
        throw new ApiError({ code: 'not_found', message: 'no label 99' });
      },
    });
    await queue.edit(ROWS[0]!, { ...ROWS[0]!, labelId: 99 }, () => label(fake, ROWS[0]!, 99));
    expect(list.rowById(1)?.labelId).toBeNull();
    expect(queue.saveStates.get(1)).toEqual({ state: 'error', message: 'no label 99' });
    expect(messages.error).toBe('Could not save the label of clip-1.wav: no label 99');
    expect(queue.saveSummary).toEqual({ state: 'error', message: messages.error });
  });

  it('when two edits of a row are in flight, only the latest answer shows, and a refusal reverts to the last confirmed row', async () => {
    const { fake, list, queue } = await setup();
    fake.handle({
      setLabel: ({ utteranceId, labelId }) => {
        if (labelId === 6) throw new ApiError({ code: 'conflict', message: 'refused' });
        return { row: row(utteranceId, { labelId }) };
      },
    });
    const a = queue.edit(ROWS[0]!, { ...ROWS[0]!, labelId: 4 }, () => label(fake, ROWS[0]!, 4));
    const b = queue.edit(list.rowById(1)!, { ...ROWS[0]!, labelId: 6 }, () => label(fake, ROWS[0]!, 6));
    expect(queue.isPending(1)).toBe(true);
    await Promise.all([a, b]);
    // 4 was saved, 6 refused: the row shows what the core has, not the row from before both.
    expect(list.rowById(1)?.labelId).toBe(4);
    expect(queue.isPending(1)).toBe(false);
  });

  it('keeps an edit the host did not receive and sends it, in order, once it is back', async () => {
    const { fake, list, queue } = await setup({ connection: true });
    fake.handle({ setLabel: ({ utteranceId, labelId }) => ({ row: row(utteranceId, { labelId }) }) });
    fake.goOffline();
    const first = queue.edit(ROWS[0]!, { ...ROWS[0]!, labelId: 4 }, () => label(fake, ROWS[0]!, 4));
    const second = queue.edit(ROWS[1]!, { ...ROWS[1]!, labelId: 5 }, () => label(fake, ROWS[1]!, 5));
    await new Promise((r) => setTimeout(r, 10));
    expect(queue.unsaved).toBe(2);
    const sentWhileOffline = fake.count('setLabel');
    expect(sentWhileOffline).toBe(1); // tried once, then waits; the second waits its turn
    fake.goOnline();
    await queue.reconnected('/p/a.wavfusion');
    await Promise.all([first, second]);
    expect(fake.calls.filter((c) => c.name === 'setLabel').map((c) => c.input)).toEqual([
      { utteranceId: 1, labelId: 4 },
      { utteranceId: 1, labelId: 4 },
      { utteranceId: 2, labelId: 5 },
    ]);
    expect(list.rowById(2)?.labelId).toBe(5);
    expect(queue.unsaved).toBe(0);
  });

  it('drops kept edits with a reason when the host came back with another project open', async () => {
    const { fake, list, messages, queue } = await setup({ connection: true });
    fake.handle({
      setLabel: ({ utteranceId, labelId }) => ({ row: row(utteranceId, { labelId }) }),
      getProjectInfo: () => info('/p/other.wavfusion'),
    });
    fake.goOffline();
    const edit = queue.edit(ROWS[0]!, { ...ROWS[0]!, labelId: 4 }, () => label(fake, ROWS[0]!, 4));
    await new Promise((r) => setTimeout(r, 10));
    fake.goOnline();
    await queue.reconnected('/p/a.wavfusion');
    await edit;
    expect(fake.count('setLabel')).toBe(1); // the try that found the host unreachable, never again
    expect(list.rowById(1)?.labelId).toBeNull();
    expect(messages.error).toContain('came back with another project open (/p/other.wavfusion)');
  });

  it('never sends a step twice: undo that met an unreachable host fails instead', async () => {
    const { fake, queue } = await setup({ connection: true });
    fake.handle({ undo: () => ({ row: null }) });
    fake.goOffline();
    await expect(queue.sendOnce(() => fake.client.undo({}))).rejects.toThrow('not reachable');
    fake.goOnline();
    expect(fake.count('undo')).toBe(1);
    expect(queue.pending).toBe(0);
  });

  it('a failed segment edit puts the optimistic row back and answers null', async () => {
    const { fake, list, messages, queue } = await setup();
    fake.handle({
      deleteSegment: () => {
        throw new ApiError({ code: 'conflict', message: 'the last segment' });
      },
    });
    const result = await queue.editSegments('delete the segment', () => fake.client.deleteSegment({ utteranceId: 1 }), {
      ...ROWS[0]!,
      transcript: 'going',
    });
    expect(result).toBeNull();
    expect(list.rowById(1)?.transcript).toBe('utterance 1');
    expect(messages.error).toBe('Could not delete the segment: the last segment');
  });

  it('counts a note being typed as unsaved until it is handed over', async () => {
    const { queue } = await setup();
    queue.setTyping(2);
    expect(queue.unsaved).toBe(1);
    expect(queue.saveStates.get(2)).toEqual({ state: 'saving' });
    queue.setTyping(null);
    expect(queue.unsaved).toBe(0);
  });
});
