import { operations, type OperationName, type OperationOutput, type OperationParsedInput } from '../../shared/contract';
import { StudioError } from '../errors';
import type { Studio } from './studio';

type Handlers = {
  [N in OperationName]: (input: OperationParsedInput<N>) => Promise<OperationOutput<N>> | OperationOutput<N>;
};

/** What each operation of the contract does, in terms of the studio's services. */
export function createHandlers(studio: Studio): Handlers {
  const { store } = studio;
  const afterJob = (jobId: string) => {
    // Nothing here may reject unhandled: that would end the host process.
    void studio.jobs
      .wait(jobId)
      .then(() => {
        store.refreshMissing();
        studio.emit('projectChanged', studio.info());
      })
      .catch((err: unknown) => {
        const error = studio.checkDamage(err);
        console.error(`after job ${jobId}: ${error instanceof Error ? error.message : String(error)}`);
      });
    return { jobId };
  };
  const handlers: Handlers = {
    getProjectInfo: () => studio.info(),
    setAnnotator: ({ annotator }) => {
      store.annotator = annotator;
      const info = studio.info();
      studio.emit('projectChanged', info);
      return info;
    },
    listLabels: () => store.labels.list(),
    saveLabel: (input) => {
      const labels = studio.labels.save(input);
      studio.emit('labelsChanged', labels);
      return labels;
    },
    deleteLabel: ({ id }) => {
      const labels = studio.labels.delete(id);
      studio.emit('labelsChanged', labels);
      return labels;
    },
    labelUsage: () => store.labels.list().map((l) => ({ labelId: l.id, annotations: store.labels.usageCount(l.id) })),
    listUtterances: (filter) => {
      const rows = store.utterances.list(filter, store.rowContext());
      return { rows, total: store.utterances.count() };
    },
    getAnnotation: ({ utteranceId }) => store.annotations.get(utteranceId, 'human', store.annotator) ?? null,
    setLabel: ({ utteranceId, labelId }) => {
      const result = studio.annotations.setLabel(utteranceId, labelId);
      studio.emit('annotationChanged', { row: result.row });
      return result;
    },
    setDimensions: ({ utteranceId, ...dims }) => {
      const result = studio.annotations.setDimensions(utteranceId, dims);
      studio.emit('annotationChanged', { row: result.row });
      return result;
    },
    undo: () => {
      const row = studio.annotations.undo();
      if (row) studio.emit('annotationChanged', { row });
      return { row };
    },
    redo: () => {
      const row = studio.annotations.redo();
      if (row) studio.emit('annotationChanged', { row });
      return { row };
    },
    getWaveform: ({ utteranceId, contextSeconds }) => studio.waveforms.waveform(utteranceId, contextSeconds),
    startImport: ({ path }) =>
      afterJob(studio.jobs.start('import', `Import ${path}`, (ctx) => studio.importer.importPath(path, ctx))),
    startExport: (request) =>
      afterJob(
        studio.jobs.start('export', `Export to ${request.folder}`, (ctx) => studio.exporter.export(request, ctx)),
      ),
    startRelink: ({ folder }) =>
      afterJob(studio.jobs.start('relink', `Relink from ${folder}`, (ctx) => studio.relinker.relink(folder, ctx))),
    listModels: async () => {
      await studio.predictions.ensureActiveModel();
      return studio.predictions.listModels();
    },
    addModel: async ({ path }) => {
      const models = await studio.predictions.addModel(path);
      studio.emit('projectChanged', studio.info());
      return models;
    },
    setActiveModel: ({ id }) => {
      const models = studio.predictions.setActiveModel(id);
      studio.emit('projectChanged', studio.info());
      return models;
    },
    getPrediction: ({ utteranceId }) => studio.predictions.prediction(utteranceId),
    acceptPrediction: ({ utteranceId }) => {
      const result = studio.predictions.accept(utteranceId);
      studio.emit('annotationChanged', { row: result.row });
      return result;
    },
    startPrediction: ({ filter, device, recompute }) =>
      afterJob(
        studio.jobs.start('predict', 'Run model', (ctx) => studio.predictions.run({ filter, device, recompute }, ctx)),
      ),
    listJobs: () => studio.jobs.list(),
    cancelJob: ({ jobId }) => ({ cancelled: studio.jobs.cancel(jobId) }),
  };
  // A damaged project file fails every operation from the first damage found on, with one clear
  // message, instead of some reads failing while some writes half-succeed.
  const guarded = {} as Record<string, (input: unknown) => Promise<unknown>>;
  for (const [name, handler] of Object.entries(handlers) as [string, (input: unknown) => unknown][]) {
    guarded[name] = async (input) => {
      if (studio.damaged) throw studio.damaged;
      try {
        return await handler(input);
      } catch (err) {
        throw studio.checkDamage(err);
      }
    };
  }
  return guarded as unknown as Handlers;
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
