// Events are the one refresh path: every action that changes the project is announced exactly once,
// by the service that made the change, and reads never write. Real Studio, real SQLite project files,
// the real demo model, driven through the same entry the transports use (invokeOperation).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation, type Handlers } from '../../src/main/api/handlers';
import { Studio } from '../../src/main/api/studio';
import { handOut } from '../../src/main/merge/handout';
import { ProjectStore } from '../../src/main/project/project-store';
import type { EventName, OperationInput, OperationName, OperationOutput } from '../../src/shared/contract';
import { DEMO_MODEL, copyInto, demoClips, openTempStudio, tempDir } from '../helpers/fixtures';

let studio: Studio;
let dir: string;
let handlers: Handlers;
const seen: EventName[] = [];

beforeAll(() => {
  ({ studio, dir } = openTempStudio());
  handlers = createHandlers(studio);
  studio.subscribe((event) => {
    if (event !== 'jobUpdated') seen.push(event);
  });
});
afterAll(async () => {
  await studio.close();
});

async function call<N extends OperationName>(name: N, input: OperationInput<N>): Promise<OperationOutput<N>> {
  return (await invokeOperation(handlers, name, input)) as OperationOutput<N>;
}

/** The events (other than job progress) that one action caused, once its job (if any) has ended. */
async function eventsOf(action: () => Promise<unknown>): Promise<EventName[]> {
  seen.length = 0;
  const result = await action();
  if (result && typeof result === 'object' && 'jobId' in result) {
    const status = await studio.jobs.wait(String(result.jobId));
    expect(status.error).toBeUndefined();
  }
  return [...seen];
}

describe('domain events, one per change', () => {
  it('reads change nothing and announce nothing; listModels no longer registers a model', async () => {
    const writes = () => (studio.store.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    const before = writes();
    for (const [name, input] of [
      ['getProjectInfo', {}],
      ['listLabels', {}],
      ['labelUsage', {}],
      ['listUtterances', {}],
      ['listModels', {}],
      ['listJobs', {}],
    ] as const) {
      expect(await eventsOf(() => invokeOperation(handlers, name, input)), name).toEqual([]);
    }
    expect(await call('listModels', {})).toEqual([]);
    expect(studio.store.activeModelId).toBeNull();
    expect(writes()).toBe(before);
  });

  it('announces each change once: imports, the annotator, labels, annotations, models, predictions, relink', async () => {
    const corpus = path.join(dir, 'corpus');
    copyInto(path.join(corpus, 'spk_a'), demoClips('spk_a', 2));
    copyInto(path.join(corpus, 'spk_b'), demoClips('spk_b', 1));
    expect(await eventsOf(() => call('startImport', { path: corpus }))).toEqual(['utterancesChanged']);
    // Nothing new the second time: nothing to announce.
    expect(await eventsOf(() => call('startImport', { path: corpus }))).toEqual([]);

    const manifestDir = path.join(dir, 'manifest');
    copyInto(manifestDir, demoClips('spk_c', 1));
    const clip = fs.readdirSync(manifestDir)[0]!;
    fs.writeFileSync(path.join(manifestDir, 'm.csv'), `path,text,speaker,label\n${clip},hello,spk_c,wistful\n`);
    expect(await eventsOf(() => call('startImport', { path: path.join(manifestDir, 'm.csv') }))).toEqual([
      'labelsChanged',
      'utterancesChanged',
    ]);

    expect(await eventsOf(() => call('setAnnotator', { annotator: 'bea' }))).toEqual(['utterancesChanged']);
    expect(await eventsOf(() => call('setAnnotator', { annotator: 'bea' }))).toEqual([]);

    let calm = 0;
    expect(
      await eventsOf(async () => {
        calm = (await call('saveLabel', { name: 'calm', color: '#123456', hotkey: null })).find(
          (l) => l.name === 'calm',
        )!.id;
      }),
    ).toEqual(['labelsChanged']);
    expect(await eventsOf(() => call('deleteLabel', { id: calm }))).toEqual(['labelsChanged']);

    const { rows } = await call('listUtterances', {});
    const labelId = (await call('listLabels', {}))[0]!.id;
    const id = rows[0]!.id;
    expect(await eventsOf(() => call('setLabel', { utteranceId: id, labelId }))).toEqual(['annotationChanged']);
    const dims = { utteranceId: id, valence: 3, arousal: null, dominance: null, note: 'n' };
    expect(await eventsOf(() => call('setDimensions', dims))).toEqual(['annotationChanged']);
    expect(await eventsOf(() => call('undo', {}))).toEqual(['annotationChanged']);
    expect(await eventsOf(() => call('redo', {}))).toEqual(['annotationChanged']);
    expect(await eventsOf(() => call('redo', {}))).toEqual([]);

    // A new active model: its list and the predictions shown change; choosing it again changes nothing.
    let modelId = 0;
    expect(
      await eventsOf(async () => {
        modelId = (await call('addModel', { path: DEMO_MODEL })).find((m) => m.active)!.id;
      }),
    ).toEqual(['modelsChanged', 'predictionsChanged']);
    expect(await eventsOf(() => call('setActiveModel', { id: modelId }))).toEqual([]);
    expect(await eventsOf(() => call('addModel', { path: DEMO_MODEL }))).toEqual([]);

    expect(await eventsOf(() => call('startPrediction', {}))).toEqual(['predictionsChanged']);
    // Resumed: everything already predicted, nothing stored, nothing to announce.
    expect(await eventsOf(() => call('startPrediction', {}))).toEqual([]);
    const predicted = await call('getPrediction', { utteranceId: rows[1]!.id });
    if (predicted?.predicted.labelId !== null) {
      expect(await eventsOf(() => call('acceptPrediction', { utteranceId: rows[1]!.id }))).toEqual([
        'annotationChanged',
      ]);
    }

    expect(await eventsOf(() => call('startExport', { folder: path.join(dir, 'export') }))).toEqual([]);

    fs.renameSync(path.join(corpus, 'spk_b'), path.join(dir, 'moved'));
    studio.store.refreshMissing();
    expect(await eventsOf(() => call('startRelink', { folder: path.join(dir, 'moved') }))).toEqual([
      'utterancesChanged',
    ]);
  });

  it('a merge of a hand-out copy is announced once per kind of change, after its job; so is its undo', async () => {
    const { studio: main, dir: mainDir } = openTempStudio();
    const mainHandlers = createHandlers(main);
    const events: EventName[] = [];
    main.subscribe((event) => {
      if (event !== 'jobUpdated') events.push(event);
    });
    try {
      copyInto(path.join(mainDir, 'clips'), demoClips('spk_a', 2));
      await main.jobs.wait(
        main.jobs.start('import', 'i', (ctx) => main.importer.importPath(path.join(mainDir, 'clips'), ctx)),
      );
      const copy = handOut(main.store, { out: path.join(mainDir, 'copy.sqlite'), annotator: 'newcomer' });
      const other = Studio.open(copy.copy, { create: false });
      other.labels.save({ name: 'calm', color: '#00aa88', hotkey: null });
      other.annotations.setLabel(other.store.rows()[0]!.id, other.store.labels.list()[0]!.id);
      await other.close();
      events.length = 0;
      const { jobId } = (await invokeOperation(mainHandlers, 'startMerge', { copy: copy.copy })) as { jobId: string };
      expect((await main.jobs.wait(jobId)).state).toBe('succeeded');
      expect(events).toEqual(['labelsChanged', 'utterancesChanged', 'labellingChanged']);
      events.length = 0;
      await invokeOperation(mainHandlers, 'listMerges', {});
      expect(events).toEqual([]);
      await invokeOperation(mainHandlers, 'undoMerge', {});
      expect(events).toEqual(['labelsChanged', 'utterancesChanged', 'labellingChanged']);
    } finally {
      await main.close();
    }
  });

  it('does the model-registry upkeep when the app opens a project, not when models are listed', async () => {
    const file = path.join(tempDir(), 'fresh.sqlite');
    const loaded = await Studio.load(file);
    try {
      expect(loaded.info().model?.name).toBeTruthy();
      expect(loaded.predictions.listModels().filter((m) => m.active)).toHaveLength(1);
    } finally {
      await loaded.close();
    }
  });
});

describe('the active model id', () => {
  it('is absent, not an empty string, when there is none (and an old empty string reads as none)', () => {
    const store = ProjectStore.open(path.join(tempDir(), 'p.sqlite'));
    try {
      store.activeModelId = 3;
      expect(store.activeModelId).toBe(3);
      store.activeModelId = null;
      expect(store.meta.get('active_model_id')).toBeUndefined();
      expect(store.activeModelId).toBeNull();
      store.meta.set('active_model_id', '');
      expect(store.activeModelId).toBeNull();
    } finally {
      store.close();
    }
  });
});
