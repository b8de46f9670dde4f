// The desktop transport end to end without an Electron binary: the renderer's ipc client over the
// preload's bridge (createDesktopBridge) over a fake ipcRenderer whose channels go to the main
// process's endpoints (ipcEndpoints, forwardEvents) of a real Studio on a real SQLite project.
// Everything crossing the fake wire is structured-cloned, as Electron's IPC does.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardEvents, ipcEndpoints } from '../../src/main/api/ipc';
import { StudioSession } from '../../src/main/api/session';
import type { Studio } from '../../src/main/api/studio';
import { handOut } from '../../src/main/merge/handout';
import { ApiError } from '../../src/renderer/src/lib/api/api-error';
import { createIpcClient } from '../../src/renderer/src/lib/api/ipc-client';
import {
  eventNames,
  ipcChannel,
  jobResult,
  operationNames,
  type EventName,
  type JobStatus,
  type StudioClient,
} from '../../src/shared/contract';
import { createDesktopBridge, type DesktopBridge, type IpcRendererLike } from '../../src/shared/desktop-bridge';
import { DEMO_MODEL, copyInto, demoClips, openTempStudio } from '../helpers/fixtures';

type Wire = (event: unknown, payload: unknown) => void;

/** A fake ipcRenderer wired to the main process's endpoints; records every channel invoked. */
function fakeIpcRenderer(studio: StudioSession, invoked: Set<string>): IpcRendererLike & { close(): void } {
  const endpoints = new Map(ipcEndpoints(studio).map((e) => [e.channel, e]));
  const listeners = new Map<string, Set<Wire>>();
  const off = forwardEvents(studio, (channel, payload) => {
    const copy = structuredClone(payload);
    // webContents.send delivers later, never inside the emitting call.
    setImmediate(() => {
      for (const l of listeners.get(channel) ?? []) l({}, copy);
    });
  });
  return {
    async invoke(channel, ...args) {
      invoked.add(channel);
      if (channel === ipcChannel.chooseFolder || channel === ipcChannel.chooseProjectFile) return null;
      const endpoint = endpoints.get(channel);
      if (!endpoint) throw new Error(`No handler registered for '${channel}'`);
      return structuredClone(await endpoint.handle(structuredClone(args[0])));
    },
    on(channel, listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
    },
    removeListener(channel, listener) {
      listeners.get(channel)?.delete(listener);
    },
    close: off,
  };
}

let studio: Studio;
let session: StudioSession;
let dir: string;
let ipc: ReturnType<typeof fakeIpcRenderer>;
let bridge: DesktopBridge;
let client: StudioClient;
const invoked = new Set<string>();
const received = new Map<EventName, unknown[]>(eventNames.map((e) => [e, []]));
const offs: (() => void)[] = [];

beforeAll(() => {
  ({ studio, dir } = openTempStudio());
  session = new StudioSession(studio, { home: path.join(dir, 'home'), userHome: dir });
  ipc = fakeIpcRenderer(session, invoked);
  bridge = createDesktopBridge(ipc);
  client = createIpcClient(bridge);
  for (const event of eventNames) offs.push(client.on(event, (payload) => received.get(event)!.push(payload)));
});
afterAll(async () => {
  for (const off of offs) off();
  ipc.close();
  await session.close();
});

async function finished(jobId: string): Promise<JobStatus> {
  const status = await studio.jobs.wait(jobId);
  // The job's last jobUpdated event crosses the wire after it ends.
  await new Promise((resolve) => setImmediate(resolve));
  const listed = (await client.listJobs({})).find((j) => j.id === jobId);
  expect(listed?.state).toBe(status.state);
  return status;
}

describe('the desktop bridge', () => {
  it('has one method per operation and one on<Event> per event, and nothing else', () => {
    const expected = [
      ...operationNames,
      ...eventNames.map((e) => `on${e[0]!.toUpperCase()}${e.slice(1)}`),
      'chooseFolder',
      'chooseProjectFile',
    ].sort();
    expect(Object.keys(bridge).sort()).toEqual(expected);
  });

  it('round-trips every operation and every event through the ipc client, validated on both sides', async () => {
    const corpus = path.join(dir, 'corpus');
    copyInto(path.join(corpus, 'spk_a'), demoClips('spk_a', 2));
    copyInto(path.join(corpus, 'spk_b'), demoClips('spk_b', 1));

    const info = await client.getProjectInfo({});
    expect(info.counts.utterances).toBe(0);
    const importPreview = await client.previewImport({ path: corpus });
    expect(importPreview).toMatchObject({ format: null, tiers: [] });
    expect(importPreview.lines[0]).toMatch(/^A folder of audio files/);
    const imported = await finished((await client.startImport({ path: corpus })).jobId);
    expect(imported.state).toBe('succeeded');
    expect((await client.getProjectInfo({})).counts.utterances).toBe(3);

    expect((await client.setAnnotator({ annotator: 'alice' })).annotator).toBe('alice');
    const labels = await client.listLabels({});
    const withCalm = await client.saveLabel({ name: 'calm', color: '#112233', hotkey: null });
    const calm = withCalm.find((l) => l.name === 'calm')!;
    expect(await client.deleteLabel({ id: calm.id })).toEqual(labels);
    expect((await client.labelUsage({})).map((u) => u.labelId)).toEqual(labels.map((l) => l.id));

    const { rows, total } = await client.listUtterances({});
    expect(total).toBe(3);
    const [first, second] = rows;
    const set = await client.setLabel({ utteranceId: first!.id, labelId: labels[0]!.id });
    expect(set.row.labelId).toBe(labels[0]!.id);
    await client.setDimensions({ utteranceId: first!.id, valence: 4, arousal: 2, dominance: null, note: 'soft' });
    expect(await client.getAnnotation({ utteranceId: first!.id })).toMatchObject({ valence: 4, note: 'soft' });
    expect((await client.setUnsure({ utteranceId: first!.id, unsure: true })).row.unsure).toBe(true);
    expect((await client.setUtteranceText({ utteranceId: first!.id, speaker: ' ana ' })).row.speaker).toBe('ana');
    await expect(client.setUtteranceText({ utteranceId: first!.id })).rejects.toMatchObject({
      code: 'invalid_request',
    });
    expect((await client.undo({})).row?.id).toBe(first!.id);
    expect((await client.redo({})).row?.id).toBe(first!.id);
    const waveform = await client.getWaveform({ utteranceId: first!.id });
    expect(waveform.peaks.length).toBeGreaterThan(0);
    const tile = await client.getSpectrogramTile({
      utteranceId: first!.id,
      startSeconds: 0,
      endSeconds: 0.5,
      widthPx: 16,
      heightPx: 8,
    });
    expect(tile.values).toHaveLength(16 * 8);
    const overview = await client.getRecordingOverview({ recordingId: first!.recordingId, peaks: 50 });
    expect(overview.segments.map((s) => s.utteranceId)).toContain(first!.id);

    const added = await client.addModel({ path: DEMO_MODEL });
    const model = added.find((m) => m.active)!;
    expect((await client.setActiveModel({ id: model.id })).find((m) => m.active)?.id).toBe(model.id);
    expect((await client.listModels({})).map((m) => m.id)).toContain(model.id);
    const predicted = await finished((await client.startPrediction({})).jobId);
    expect(predicted.state).toBe('succeeded');
    const prediction = await client.getPrediction({ utteranceId: second!.id });
    expect(prediction?.model.id).toBe(model.id);
    if (prediction?.predicted.labelId !== null) {
      expect((await client.acceptPrediction({ utteranceId: second!.id })).row.labelId).toBe(
        prediction?.predicted.labelId,
      );
    } else {
      await expect(client.acceptPrediction({ utteranceId: second!.id })).rejects.toMatchObject({ code: 'conflict' });
    }

    // Several annotators (issue 11's operations): answered or refused, always in the contract's shape.
    expect((await client.saveAnnotator({ name: 'alice', role: 'adjudicator' })).map((e) => e.name)).toContain('alice');
    await client.saveAnnotator({ name: 'carl' });
    expect((await client.removeAnnotator({ name: 'carl' })).map((e) => e.name)).not.toContain('carl');
    expect((await client.listAnnotators({})).map((e) => e.name)).toContain('alice');
    await client.saveAnnotator({ name: 'dora' });
    await client.saveAnnotator({ name: 'erin' });
    expect((await client.setAnnotatorShare({ name: 'dora', share: 0.5 })).find((e) => e.name === 'dora')?.share).toBe(
      0.5,
    );
    const settings = await client.getLabellingSettings({});
    expect(await client.setLabellingSettings({ blind: settings.blind })).toEqual(settings);
    expect((await client.getConsensus({ utteranceId: first!.id })).utteranceId).toBe(first!.id);
    await client
      .adjudicate({ utteranceId: first!.id, labelId: labels[0]!.id, reason: 'heard it twice' })
      .catch((err: unknown) => expect(err).toBeInstanceOf(ApiError));
    await client.getAgreement({ bootstrap: 0 });

    // The model report, versions side by side, bulk accept and the models list (issue 13).
    expect((await client.getModelReport({})).status).toBe('too_few');
    expect((await client.compareModels({ a: model.id, b: model.id })).status).toBe('too_few');
    const preview = await client.previewBulkAccept({ threshold: 0 });
    expect((await client.bulkAccept({ threshold: 0, expectedCount: preview.count })).accepted).toBe(preview.count);
    expect((await client.getModelProvenance({ id: model.id })).available).toBe(true);
    expect((await client.renameModel({ id: model.id, name: 'ours' })).find((m) => m.id === model.id)?.name).toBe(
      'ours',
    );
    expect(await client.removeModel({ id: model.id })).toEqual([]);
    // Fine-tune (issue 13): a missing Python is refused through the bridge before any job starts.
    const training = await client
      .startTraining({ start: 'scratch', python: '/nonexistent/python3' })
      .catch((err: unknown) => err);
    expect(training).toBeInstanceOf(ApiError);

    // Long recordings (issue 12): VAD as a job, a commit, and segment edits, each one Undo.
    const segmented = await finished(
      (await client.startSegmentation({ scope: { recordingIds: [first!.recordingId] } })).jobId,
    );
    expect(segmented.state).toBe('succeeded');
    const proposal = jobResult(segmented, 'segment')!.proposals[0]!;
    expect((await client.commitSegments({ proposals: [proposal] })).skipped).toHaveLength(proposal.segments.length);
    const made = await client
      .createSegment({ recordingId: first!.recordingId, start: first!.end, end: first!.end + 0.5 })
      .catch((err: unknown) => err);
    expect(made).toBeInstanceOf(ApiError); // past the end of the clip's recording
    const seg = (await client.resizeSegment({ utteranceId: first!.id, start: first!.start, end: first!.end }))
      .utteranceIds[0]!;
    const halves = (await client.splitSegment({ utteranceId: seg, at: (first!.start + first!.end) / 2 })).utteranceIds;
    expect(halves).toHaveLength(2);
    expect((await client.mergeSegmentWithNext({ utteranceId: seg })).removed).toEqual([halves[1]]);
    expect((await client.deleteSegment({ utteranceId: seg })).removed).toEqual([seg]);
    for (let i = 0; i < 4; i++) await client.undo({});
    expect((await client.listUtterances({ limit: 2, offset: 1 })).filtered).toBe(3);

    const exported = await finished((await client.startExport({ folder: path.join(dir, 'export') })).jobId);
    expect(exported.state).toBe('succeeded');
    fs.renameSync(path.join(corpus, 'spk_b'), path.join(dir, 'moved'));
    const relinked = await finished((await client.startRelink({ folder: path.join(dir, 'moved') })).jobId);
    expect(relinked.state).toBe('succeeded');
    expect(await client.cancelJob({ jobId: relinked.id })).toEqual({ cancelled: false });
    expect(await client.chooseFolder!()).toBeNull();
    expect(await client.chooseProjectFile!('open')).toBeNull();

    // The core's refusal arrives as an ApiError with its code and every problem named.
    const refusal = await client.setLabel({ utteranceId: -1, labelId: null }).catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({ code: 'invalid_request' });
    await expect(client.getAnnotation({ utteranceId: 999_999 })).resolves.toBeNull();

    // Working apart (issue 11, item 4): a hand-out copy merged back as a job, listed, the merge undone.
    const copy = handOut(studio.store, { out: path.join(dir, 'copy.sqlite'), annotator: 'dana' });
    const mergeJob = await finished((await client.startMerge({ copy: copy.copy })).jobId);
    expect(jobResult(mergeJob, 'merge')).toMatchObject({ sameOrigin: true, annotatorsAdded: 1 });
    expect((await client.listMerges({})).map((m) => m.report.copy)).toEqual([copy.copy]);
    expect((await client.undoMerge({})).annotatorsRemoved).toBe(1);

    // Projects from the UI (issue 10, item 4): the picker, a new project (the switch), rename, the recent list.
    expect((await client.browsePath({})).entries.map((e) => e.name)).toContain('corpus');
    expect((await client.renameProject({ name: 'Bridge' })).name).toBe('Bridge');
    expect((await client.newProject({ path: path.join(dir, 'next'), name: 'Next' })).counts.utterances).toBe(0);
    expect((await client.openProject({ path: path.join(dir, 'next.sqlite') })).name).toBe('Next');
    expect((await client.listRecentProjects({})).map((r) => r.name)).toEqual(['Next', 'Bridge']);
    expect((await client.forgetRecentProject({ path: studio.store.file })).map((r) => r.name)).toEqual(['Next']);

    await new Promise((resolve) => setImmediate(resolve));
    expect([...invoked].sort()).toEqual(
      [...operationNames.map(ipcChannel.invoke), ipcChannel.chooseFolder, ipcChannel.chooseProjectFile].sort(),
    );
    for (const event of eventNames) expect(received.get(event), event).not.toHaveLength(0);
  });

  it('refuses an answer or an event that does not match the contract', async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args);
    try {
      const listeners = new Set<(payload: unknown) => void>();
      const broken: DesktopBridge = {
        ...bridge,
        listLabels: async () => ({ ok: true, value: [{ id: 'one', name: 7 }] }) as never,
        getProjectInfo: async () => ({ fine: true }) as never,
        onLabelsChanged: (listener) => {
          listeners.add(listener as (payload: unknown) => void);
          return () => void listeners.delete(listener as (payload: unknown) => void);
        },
      };
      const brokenClient = createIpcClient(broken);
      await expect(brokenClient.listLabels({})).rejects.toMatchObject({ code: 'internal' });
      await expect(brokenClient.getProjectInfo({})).rejects.toMatchObject({ code: 'internal' });
      const seen: unknown[] = [];
      const off = brokenClient.on('labelsChanged', (payload) => seen.push(payload));
      for (const l of listeners) l([{ id: 1, name: 'x', color: 'red', hotkey: null, position: 0 }]);
      for (const l of listeners) l([{ id: 1, name: 'x', color: '#aa0000', hotkey: null, position: 0 }]);
      off();
      // What passes is what the contract makes of it (a label without a guideline has an empty one).
      expect(seen).toEqual([
        [{ id: 1, name: 'x', color: '#aa0000', hotkey: null, position: 0, definition: '', examples: [] }],
      ]);
      expect(errors).toHaveLength(1);
    } finally {
      console.error = original;
    }
  });
});
