import {
  operationNames,
  operations,
  type OperationName,
  type OperationOutput,
  type OperationParsedInput,
} from '../../shared/contract';
import { StudioError } from '../errors';
import { StudioSession } from './session';
import type { Studio } from './studio';

type Handlers = {
  [N in OperationName]: (input: OperationParsedInput<N>) => Promise<OperationOutput<N>> | OperationOutput<N>;
};

/** The operations on the session rather than on the open project: they work whatever project is open. */
type SessionOperation =
  'newProject' | 'openProject' | 'renameProject' | 'listRecentProjects' | 'forgetRecentProject' | 'browsePath';
type ProjectHandlers = Omit<Handlers, SessionOperation>;

function sessionHandlers(session: StudioSession): Pick<Handlers, SessionOperation> {
  return {
    newProject: (request) => session.create(request),
    openProject: ({ path }) => session.open(path),
    renameProject: ({ name }) => session.rename(name),
    listRecentProjects: () => session.listRecent(),
    forgetRecentProject: ({ path }) => session.forgetRecent(path),
    browsePath: (request) => session.browse(request),
  };
}

/**
 * What each operation of the contract does, in terms of the studio's services. Given a session, each
 * request goes to the project open at that moment (the user may open another); given a Studio, to it.
 */
export function createHandlers(target: Studio | StudioSession): Handlers {
  const session = StudioSession.of(target);
  const perProject = new WeakMap<Studio, ProjectHandlers>();
  const forProject = (studio: Studio) => {
    let handlers = perProject.get(studio);
    if (!handlers) perProject.set(studio, (handlers = projectHandlers(studio)));
    return handlers;
  };
  const onSession = sessionHandlers(session);
  // A damaged project file fails every operation on it from the first damage found on, with one clear
  // message, instead of some reads failing while some writes half-succeed. The session's operations
  // still work: opening another project is the way out.
  const guarded = {} as Record<string, (input: unknown) => Promise<unknown>>;
  for (const name of operationNames) {
    guarded[name] = Object.hasOwn(onSession, name)
      ? async (input) => await (onSession[name as SessionOperation] as (input: unknown) => unknown)(input)
      : async (input) => {
          const studio = session.studio;
          if (studio.damaged) throw studio.damaged;
          try {
            return await (forProject(studio)[name as keyof ProjectHandlers] as (input: unknown) => unknown)(input);
          } catch (err) {
            throw studio.checkDamage(err);
          }
        };
  }
  return guarded as unknown as Handlers;
}

/** The operations on the open project. */
function projectHandlers(studio: Studio): ProjectHandlers {
  const { store } = studio;
  const { agreement } = studio;
  // Handlers only translate: the services emit the domain events (src/main/events.ts) themselves.
  const handlers: ProjectHandlers = {
    getProjectInfo: () => studio.info(),
    setAnnotator: ({ annotator }) => {
      studio.annotations.setAnnotator(annotator);
      return studio.info();
    },
    listLabels: () => store.labels.list(),
    saveLabel: (input) => studio.labels.save(input),
    deleteLabel: ({ id }) => studio.labels.delete(id),
    labelUsage: () => store.labels.list().map((l) => ({ labelId: l.id, annotations: store.labels.usageCount(l.id) })),
    listUtterances: ({ offset, limit, ...filter }) => {
      const { rows, filtered } = store.utterances.page(filter, store.rowContext(), { offset, limit });
      return { rows, total: store.utterances.count(), filtered, offset };
    },
    getAnnotation: ({ utteranceId }) => store.annotations.get(utteranceId, 'human', store.annotator) ?? null,
    setLabel: ({ utteranceId, labelId }) => studio.annotations.setLabel(utteranceId, labelId),
    setDimensions: ({ utteranceId, ...dims }) => studio.annotations.setDimensions(utteranceId, dims),
    setUnsure: ({ utteranceId, unsure }) => studio.annotations.setUnsure(utteranceId, unsure),
    setUtteranceText: ({ utteranceId, transcript, speaker }) =>
      studio.segments.setText(utteranceId, { transcript, speaker }),
    // One Undo walks label edits and segment edits together, newest first.
    undo: () => studio.segments.undo(),
    redo: () => studio.segments.redo(),
    startSegmentation: ({ scope, params }) => ({
      jobId: studio.jobs.start('segment', 'Find speech (VAD)', (ctx) => studio.segmentation.run(scope, params, ctx)),
    }),
    commitSegments: (request) => studio.segments.commit(request),
    createSegment: (input) => studio.segments.create(input),
    resizeSegment: ({ utteranceId, start, end, snap }) => studio.segments.resize(utteranceId, start, end, snap),
    splitSegment: ({ utteranceId, at }) => studio.segments.split(utteranceId, at),
    mergeSegmentWithNext: ({ utteranceId }) => studio.segments.mergeWithNext(utteranceId),
    deleteSegment: ({ utteranceId }) => studio.segments.delete(utteranceId),
    getWaveform: ({ utteranceId, contextSeconds, window }) =>
      studio.waveforms.waveform(utteranceId, contextSeconds, window),
    getSpectrogramTile: (request) => studio.spectrograms.tile(request),
    getRecordingOverview: ({ recordingId, peaks, around }) => studio.waveforms.overview(recordingId, peaks, around),
    previewImport: ({ path, ...options }) => studio.importer.previewImport(path, options),
    startImport: ({ path, ...options }) => ({
      jobId: studio.jobs.start('import', `Import ${path}`, (ctx) => studio.importer.importPath(path, ctx, options)),
    }),
    startExport: (request) => ({
      jobId: studio.jobs.start('export', `Export to ${request.folder}`, (ctx) => studio.exporter.export(request, ctx)),
    }),
    startRelink: ({ folder }) => ({
      jobId: studio.jobs.start('relink', `Relink from ${folder}`, (ctx) => studio.relinker.relink(folder, ctx)),
    }),
    listModels: () => studio.predictions.listModels(),
    addModel: ({ path }) => studio.predictions.addModel(path),
    setActiveModel: ({ id }) => studio.predictions.setActiveModel(id),
    // Blind mode may hide the model's prediction until the annotator has labelled the utterance.
    getPrediction: ({ utteranceId }) =>
      agreement.visibility(utteranceId).model ? studio.predictions.prediction(utteranceId) : null,
    acceptPrediction: ({ utteranceId }) => {
      if (!agreement.visibility(utteranceId).model)
        throw new StudioError('forbidden', 'Blind mode hides the prediction until you have labelled this utterance');
      return studio.predictions.accept(utteranceId);
    },
    startPrediction: ({ filter, device, precision, recompute }) => ({
      jobId: studio.jobs.start('predict', 'Run model', (ctx) =>
        studio.predictions.run({ filter, device, precision, recompute }, ctx),
      ),
    }),
    removeModel: ({ id }) => studio.predictions.removeModel(id),
    renameModel: ({ id, name }) => studio.predictions.renameModel(id, name),
    getModelProvenance: ({ id }) => studio.evaluation.provenance(id),
    getModelReport: ({ modelId, filter }) => studio.evaluation.report({ modelId, filter }),
    compareModels: ({ a, b, filter }) => studio.evaluation.compare({ a, b, filter }),
    previewBulkAccept: ({ threshold, filter }) => studio.evaluation.previewBulkAccept({ threshold, filter }),
    bulkAccept: ({ threshold, filter, expectedCount }) =>
      studio.evaluation.bulkAccept({ threshold, filter, expectedCount }),
    startTraining: async (request) => {
      // refused here, before a job starts: no labels, one class, labels the model does not know, no Python
      const prepared = await studio.training.prepare(request);
      const from = prepared.initFrom ? `from ${prepared.initFrom.name}` : 'from scratch';
      return {
        jobId: studio.jobs.start('train', `Train model (${from}, ${prepared.request.epochs} epochs)`, (ctx) =>
          studio.training.train(prepared, ctx),
        ),
      };
    },
    listJobs: () => studio.jobs.list(),
    cancelJob: ({ jobId }) => ({ cancelled: studio.jobs.cancel(jobId) }),
    listAnnotators: () => agreement.listAnnotators(),
    saveAnnotator: ({ name, role }) => agreement.saveAnnotator(name, role),
    removeAnnotator: ({ name }) => agreement.removeAnnotator(name),
    setAnnotatorShare: ({ name, share }) => agreement.setAnnotatorShare(name, share),
    getLabellingSettings: () => agreement.settings(),
    setLabellingSettings: (change) => agreement.setSettings(change),
    getConsensus: ({ utteranceId }) => agreement.detail(utteranceId),
    adjudicate: ({ utteranceId, labelId, reason }) => agreement.adjudicate(utteranceId, labelId, reason),
    getAgreement: (request) => agreement.report(request),
    startMerge: ({ copy }) => ({
      jobId: studio.jobs.start('merge', `Merge ${copy}`, (ctx) => studio.merges.merge(copy, ctx)),
    }),
    listMerges: () => studio.merges.list(),
    undoMerge: () => studio.merges.undoMerge(),
  };
  return handlers;
}

/**
 * The single entry both transports use: validates the raw request against the contract, runs the
 * handler, and returns its output. Invalid input becomes a StudioError listing every problem.
 */
export async function invokeOperation(handlers: Handlers, name: string, raw: unknown): Promise<unknown> {
  if (!Object.hasOwn(operations, name)) throw new StudioError('not_found', `Unknown operation "${name}"`);
  const op = operations[name as OperationName];
  const parsed = op.input.safeParse(raw ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`);
    throw new StudioError('invalid_request', `Invalid request for ${name}: ${issues.join('; ')}`, issues);
  }
  const handler = handlers[name as OperationName] as (input: unknown) => unknown;
  return await handler(parsed.data);
}

export type { Handlers };
