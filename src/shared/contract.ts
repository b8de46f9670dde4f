/**
 * The one API contract between the studio core and any renderer.
 *
 * Every operation is a named request/response pair with zod schemas; every event the core pushes
 * has a schema too. Both transports (Electron IPC in src/main/desktop, loopback HTTP/WebSocket in
 * src/main/host) validate requests against these schemas before a handler sees them, and the
 * renderer's clients are typed from them. Add an operation here first, then its handler in
 * src/main/api/handlers.ts; the transports, the preload and the clients pick it up by name.
 */
import { z } from 'zod';
import {
  AgreementReport,
  AgreementRequest,
  AnnotatorRole,
  ConsensusDetail,
  ConsensusFilter,
  LabellingSettings,
  RosterEntry,
  RowConsensus,
} from './agreement-contract';
import { BulkAcceptPreview, ModelComparison, ModelProvenance, ModelReport } from './evaluation-contract';
import { MergeRecord, MergeReport, MergeRequest, MergeUndoReport } from './merge-contract';
import {
  CommitSegmentsRequest,
  CommitSegmentsResult,
  ResizeSegmentResult,
  SegmentEditResult,
  SegmentScope,
  SegmentationResult,
  VadParams,
  segmentOperationInputs,
} from './segment-contract';
import {
  BrowseListing,
  BrowseRequest,
  LabelDefinition,
  LabelExample,
  MAX_LABEL_EXAMPLES,
  NewProjectRequest,
  OpenProjectRequest,
  ProjectName,
  RecentProject,
} from './project-contract';
import {
  RecordingOverview,
  RecordingOverviewRequest,
  SpectrogramTile,
  SpectrogramTileRequest,
} from './spectrogram-contract';

export * from './agreement-contract';
export * from './evaluation-contract';
export * from './segment-contract';
export * from './project-contract';
export * from './merge-contract';
export * from './spectrogram-contract';

// ---------- shared value schemas ----------

export const Id = z.number().int().positive();
export const AnnotatorName = z.string().trim().min(1).max(80);
export const HexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colour must look like #a1b2c3');
export const Hotkey = z.string().regex(/^[1-9]$/, 'hotkey must be a digit 1-9');
/** Valence, arousal and dominance are rated on a 1-5 scale (SAM-style). */
export const DimensionScore = z.number().min(1).max(5);

export const Label = z.object({
  id: Id,
  name: z.string(),
  color: HexColor,
  hotkey: Hotkey.nullable(),
  position: z.number().int(),
  /** The guideline: what the label means in this project ('' when none is written). */
  definition: LabelDefinition.default(''),
  /** Example utterances of this project that annotators can play from the label bar. */
  examples: z.array(LabelExample).default([]),
});
export type Label = z.output<typeof Label>;

export const AnnotationState = z.object({
  labelId: Id.nullable(),
  valence: DimensionScore.nullable(),
  arousal: DimensionScore.nullable(),
  dominance: DimensionScore.nullable(),
  note: z.string(),
  /** "Unsure / skip": this annotator is not sure of this utterance, or left it for later (key U). */
  unsure: z.boolean().default(false),
});
export type AnnotationState = z.output<typeof AnnotationState>;

export const Annotation = AnnotationState.extend({
  utteranceId: Id,
  origin: z.enum(['human', 'import']),
  annotator: z.string(),
  updatedAt: z.string(),
});
export type Annotation = z.infer<typeof Annotation>;

/** The active model's prediction for an utterance, as shown in lists. */
export const PredictionSummary = z.object({
  /** The project label with the predicted label's name, if the project has one. */
  labelId: Id.nullable(),
  label: z.string(),
  confidence: z.number(),
  /** Normalised entropy of the class probabilities, 0 (certain) to 1 (uniform). */
  entropy: z.number(),
});
export type PredictionSummary = z.infer<typeof PredictionSummary>;

export const UtteranceRow = z.object({
  id: Id,
  recordingId: Id,
  recordingName: z.string(),
  start: z.number(),
  end: z.number(),
  speaker: z.string().nullable(),
  transcript: z.string(),
  /** The human label shown for this utterance (the newest human annotation), if any. */
  labelId: Id.nullable(),
  annotator: z.string().nullable(),
  /** A label that came with an imported manifest, if any. */
  importedLabelId: Id.nullable(),
  missing: z.boolean(),
  prediction: PredictionSummary.nullable(),
  /** Everyone's labels: state, count, final label (hidden in blind mode until this annotator labels it). */
  consensus: RowConsensus,
  /** A split or a merge with disagreeing labels carried labels over: they need a look. */
  needsReview: z.boolean().optional(),
  /** The current annotator flagged it "unsure / skip". */
  unsure: z.boolean().default(false),
});
export type UtteranceRow = z.output<typeof UtteranceRow>;

export const UtteranceFilter = z.object({
  status: z.enum(['all', 'unlabelled', 'labelled']).default('all'),
  labelId: Id.nullable().default(null),
  speaker: z.string().nullable().default(null),
  search: z.string().max(500).default(''),
  /** Only utterances whose predicted label's probability is below this. */
  maxConfidence: z.number().min(0).max(1).nullable().default(null),
  /** Only utterances where the person's label differs from the model's. */
  disagreement: z.boolean().default(false),
  /** Only utterances the active model predicted as this label (a confusion-matrix cell, with `labelId`). */
  predictedLabelId: Id.nullable().default(null),
  /** Only utterances whose recording file is missing (moved or deleted since import). */
  missing: z.boolean().default(false),
  /** Only utterances the current annotator flagged "unsure / skip". */
  unsure: z.boolean().default(false),
  /** `uncertainty`: highest prediction entropy first (unpredicted last). */
  sort: z.enum(['recording', 'uncertainty']).default('recording'),
  /** Several annotators: needs more labels, complete, disagreed (not yet adjudicated), adjudicated. */
  consensus: ConsensusFilter.default('any'),
});
export type UtteranceFilter = z.infer<typeof UtteranceFilter>;

export const ProjectInfo = z.object({
  name: z.string(),
  path: z.string(),
  schemaVersion: z.number().int(),
  appVersion: z.string(),
  counts: z.object({
    recordings: z.number().int(),
    utterances: z.number().int(),
    labelled: z.number().int(),
    missingRecordings: z.number().int(),
  }),
  speakers: z.array(z.string()),
  annotator: z.string(),
  /** The model whose predictions are shown, if any. */
  model: z.object({ id: Id, name: z.string(), version: z.string() }).nullable(),
  /** Where inference last ran and why there (fallback reason), once it has run. */
  inference: z.object({ device: z.string(), note: z.string() }).nullable(),
});
export type ProjectInfo = z.infer<typeof ProjectInfo>;

/**
 * What one Undo or Redo did: the row to show (null when nothing was left to undo, or when a segment
 * step left no segment live, such as undoing a create), and `segments: true` for a segment step.
 */
export const HistoryStep = z.object({ row: UtteranceRow.nullable(), segments: z.literal(true).optional() });
export type HistoryStep = z.infer<typeof HistoryStep>;

/** Regions returned with a waveform, at most (the selected utterance's and its nearest neighbours'). */
export const MAX_WAVEFORM_REGIONS = 24;

/**
 * The longest window of a recording one waveform request may ask for (seconds): the player asks for a
 * window of a long recording when zoomed in past what the whole clip can be drawn at.
 */
export const MAX_WAVEFORM_WINDOW_S = 600;
/** A time range of a recording (seconds), instead of the utterance with context. */
export const WaveformWindow = z
  .object({ start: z.number().finite().min(0), end: z.number().finite().min(0) })
  .refine((w) => w.end > w.start, 'the window must end after it starts')
  .refine((w) => w.end - w.start <= MAX_WAVEFORM_WINDOW_S, `a window is at most ${MAX_WAVEFORM_WINDOW_S} s long`);
export type WaveformWindow = z.infer<typeof WaveformWindow>;

export const Waveform = z.object({
  utteranceId: Id,
  /** URL path (relative to the transport's media root) of a WAV clip of the utterance with context. */
  mediaPath: z.string(),
  /** Seconds, in recording time, where the clip starts and ends. */
  clipStart: z.number(),
  clipEnd: z.number(),
  /** The whole recording's length (seconds): how far a window of it can go. */
  recordingDurationS: z.number(),
  /** The clip is a window of the recording that was asked for (not the utterance with context). */
  windowed: z.boolean(),
  /** Max-abs peaks over the clip, `peaksPerSecond` per second, in 0..1. */
  peaks: z.array(z.number()),
  peaksPerSecond: z.number(),
  /** Neighbouring utterances that overlap the clip, for coloured regions. */
  regions: z.array(z.object({ utteranceId: Id, start: z.number(), end: z.number(), labelId: Id.nullable() })),
});
export type Waveform = z.infer<typeof Waveform>;

export const ImportFailure = z.object({
  path: z.string(),
  reason: z.string(),
});
export const ImportReport = z.object({
  source: z.string(),
  recordingsAdded: z.number().int(),
  recordingsReused: z.number().int(),
  utterancesAdded: z.number().int(),
  annotationsAdded: z.number().int(),
  labelsAdded: z.array(z.string()),
  failures: z.array(ImportFailure),
  cancelled: z.boolean(),
  /** The corpus format read (textgrid, eaf, label-studio…), absent for folders and manifests. */
  format: z.string().optional(),
  /** What was recognised: which tier went where, interpolated time slots, task counts. */
  notes: z.array(z.string()).optional(),
  /** Model predictions a corpus file carried (Label Studio), stored per model version. */
  predictionsAdded: z.number().int().optional(),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** Every format an export writes: the one list the CLI's `--format` and the Export dialog offer. */
export const ExportFormat = z.enum(['audiofolder', 'csv', 'jsonl', 'textgrid', 'eaf', 'label-studio']);
export type ExportFormat = z.infer<typeof ExportFormat>;
/** Formats an import reads (without one, it is recognised from the content). */
export const ImportFormatName = z.enum([
  'iemocap',
  'meld',
  'label-studio',
  'eaf',
  'textgrid',
  'audiofolder',
  'csv',
  'jsonl',
]);
export type ImportFormatName = z.infer<typeof ImportFormatName>;
/** What a TextGrid/EAF tier is taken as. */
export const TierRole = z.enum([
  'utterance',
  'transcript',
  'label',
  'speaker',
  'valence',
  'arousal',
  'dominance',
  'note',
  'unsure',
  'annotated_at',
]);
export type TierRole = z.infer<typeof TierRole>;
/** What to import and how: the CLI's `import` options (`--format`, `--tier`, `--four-class`, `--media`). */
export const ImportRequest = z.object({
  path: z.string().min(1),
  /** Without it, the format is recognised from the content. */
  format: ImportFormatName.optional(),
  /** TextGrid/EAF: tier name → role; tiers not named are ignored. Without it, roles follow the names. */
  tiers: z.record(z.string().min(1), TierRole).optional(),
  /** IEMOCAP: the 4-class convention; `drop` leaves out other categories, `keep` keeps their names. */
  fourClass: z.enum(['drop', 'keep']).optional(),
  /** MELD: the folder of the dia{D}_utt{U} clips (else looked for under the CSV's folder). */
  media: z.string().min(1).optional(),
});
export type ImportRequest = z.input<typeof ImportRequest>;
/** What an import would read, before anything is written. */
export const ImportPreview = z.object({
  path: z.string(),
  /** The corpus format recognised or named; null: a plain folder, manifest or audio file. */
  format: ImportFormatName.nullable(),
  /** Counts, label mapping, tier roles, unusable rows: as the CLI's summary says them. */
  lines: z.array(z.string()),
  /** TextGrid/EAF: each tier found and the role it gets (null: ignored). */
  tiers: z.array(z.object({ name: z.string(), role: TierRole.nullable() })),
});
export type ImportPreview = z.infer<typeof ImportPreview>;
export const ExportRequest = z.object({
  folder: z.string().min(1),
  format: ExportFormat.default('audiofolder'),
  overwrite: z.boolean().default(false),
  seed: z.number().int().default(13),
  split: z
    .object({ train: z.number().min(0), validation: z.number().min(0), test: z.number().min(0) })
    .refine((s) => s.train + s.validation + s.test > 0, 'split ratios must not all be zero')
    .default({ train: 0.8, validation: 0.1, test: 0.1 }),
  /** Use labels imported with a manifest where no person has labelled the utterance. */
  includeImported: z.boolean().default(false),
  /**
   * Add the active model's prediction as columns (audiofolder, CSV, JSONL): predicted_label,
   * predicted_prob, one prob_<label> per model label, model_name, model_version. Label Studio tasks
   * carry predictions anyway; TextGrid and EAF have no columns (a warning says so).
   */
  includePredictions: z.boolean().default(false),
  /**
   * Keep the split an utterance was imported with (MELD's CSVs, an audiofolder's split folders)
   * instead of the seeded split; utterances without one are split as usual (a warning counts them).
   * The imported split need not be speaker-independent.
   */
  keepImportedSplit: z.boolean().default(false),
  /**
   * One row per annotator instead of one per utterance (audiofolder, CSV, JSONL): each person's
   * annotation of an exported utterance (annotator, role, label, V/A/D, note, unsure, time) with the
   * utterance's consensus columns; an audiofolder writes each clip once. TextGrid, EAF and Label Studio
   * always hold each annotator apart (a tier or an annotation each), so it changes nothing there.
   */
  rowPerAnnotator: z.boolean().default(false),
});
export type ExportRequest = z.input<typeof ExportRequest>;
export const ExportSummary = z.object({
  folder: z.string(),
  format: ExportFormat,
  rows: z.number().int(),
  bySplit: z.record(z.string(), z.number().int()),
  warnings: z.array(z.string()),
  files: z.array(z.string()),
});
export type ExportSummary = z.infer<typeof ExportSummary>;

export const RelinkReport = z.object({
  relinked: z.number().int(),
  stillMissing: z.array(z.string()),
});
export type RelinkReport = z.infer<typeof RelinkReport>;

export const Device = z.enum(['auto', 'cpu', 'cuda', 'webgpu']);
export type Device = z.infer<typeof Device>;
/** Model precision: auto = int8 on the CPU when the bundle has it, float32 on a GPU. */
export const Precision = z.enum(['auto', 'fp32', 'int8']);
export type Precision = z.infer<typeof Precision>;

export const ModelInfo = z.object({
  id: Id,
  /** The name the team gave it, else the bundle's. */
  name: z.string(),
  /** The name in the bundle's model.json (with version and checksum, what identifies the model). */
  bundleName: z.string(),
  version: z.string(),
  location: z.string(),
  labels: z.array(z.string()),
  builtin: z.boolean(),
  active: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

export const Prediction = z.object({
  utteranceId: Id,
  model: z.object({ id: Id, name: z.string(), version: z.string() }),
  scores: z.array(z.object({ label: z.string(), labelId: Id.nullable(), probability: z.number() })),
  predicted: PredictionSummary,
  textGate: z.number(),
  textUsed: z.boolean(),
  windows: z.number().int(),
  createdAt: z.string(),
  /** Graph that produced it: fp32 (model.onnx) or int8 (model.int8.onnx). */
  precision: z.enum(['fp32', 'int8']).default('fp32'),
});
export type Prediction = z.infer<typeof Prediction>;

export const PredictionReport = z.object({
  model: z.string(),
  device: z.string(),
  deviceNote: z.string(),
  precision: z.enum(['fp32', 'int8']).default('fp32'),
  predicted: z.number().int(),
  skipped: z.number().int(),
  failures: z.array(ImportFailure),
  audioSeconds: z.number(),
  realtimeFactor: z.number(),
  cancelled: z.boolean(),
});
export type PredictionReport = z.infer<typeof PredictionReport>;

/** Held-out figures of a trained model (model.json's training.metrics.<split>), as the trainer wrote them. */
export const TrainingSplitMetrics = z.object({
  WA: z.number(),
  UA: z.number(),
  macroF1: z.number(),
  weightedF1: z.number(),
  n: z.number().int(),
});
export type TrainingSplitMetrics = z.infer<typeof TrainingSplitMetrics>;
export const TrainingEpoch = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  validationWA: z.number(),
  validationUA: z.number(),
});
export type TrainingEpoch = z.infer<typeof TrainingEpoch>;
/** A model's held-out metrics (null where model.json has none). */
export const ModelMetricsSummary = z.object({
  model: ModelInfo.nullable(),
  validation: TrainingSplitMetrics.nullable(),
  test: TrainingSplitMetrics.nullable(),
});
export type ModelMetricsSummary = z.infer<typeof ModelMetricsSummary>;
/** A finished fine-tune: the new model (registered, not active), its curve and metrics beside the current model's. */
export const TrainingReport = z.object({
  trained: ModelMetricsSummary.extend({ model: ModelInfo }),
  current: ModelMetricsSummary,
  folder: z.string(),
  log: z.string(),
  initFrom: z.string().nullable(),
  epochs: z.array(TrainingEpoch),
  items: z.object({ train: z.number().int(), validation: z.number().int(), test: z.number().int() }),
  warnings: z.array(z.string()),
});
export type TrainingReport = z.infer<typeof TrainingReport>;
export const TrainingRequest = z.object({
  epochs: z.number().int().min(1).max(500).default(3),
  /** active: fine-tune the active model's weights (its labels and tokenizer); scratch: a new tiny model. */
  start: z.enum(['active', 'scratch']).default('active'),
  /** A bundle folder to start from instead of the active model (the CLI's --init-from). */
  initFrom: z.string().min(1).optional(),
  /** Python with torch (default $WAVFUSION_PYTHON or /usr/bin/python3). */
  python: z.string().min(1).optional(),
  threads: z.number().int().min(1).max(256).optional(),
  /** A random subset of the training split per run (quick trials, tests). */
  maxTrainItems: z.number().int().min(1).optional(),
  seed: z.number().int().default(13),
});
export type TrainingRequest = z.input<typeof TrainingRequest>;

export const JobKind = z.enum(['import', 'export', 'relink', 'predict', 'segment', 'train', 'merge']);
export type JobKind = z.infer<typeof JobKind>;
export const JobState = z.enum(['running', 'succeeded', 'failed', 'cancelled']);
/** What every job reports, whatever its kind. */
const JobFields = z.object({
  id: z.string(),
  title: z.string(),
  state: JobState,
  done: z.number(),
  total: z.number(),
  message: z.string(),
  startedAt: z.string(),
  etaSeconds: z.number().nullable(),
  error: z.string().optional(),
  /** Job-specific live figures (inference: audio seconds, × real time, device). */
  metrics: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});
export type JobFields = z.infer<typeof JobFields>;
/** A job of one kind: its result (once it succeeded) has that kind's type. */
const jobOf = <K extends JobKind, R extends z.ZodType>(kind: K, result: R) =>
  JobFields.extend({ kind: z.literal(kind), result: result.optional() });
export const JobStatus = z.discriminatedUnion('kind', [
  jobOf('import', ImportReport),
  jobOf('export', ExportSummary),
  jobOf('relink', RelinkReport),
  jobOf('predict', PredictionReport),
  jobOf('segment', SegmentationResult),
  jobOf('train', TrainingReport),
  jobOf('merge', MergeReport),
]);
export type JobStatus = z.infer<typeof JobStatus>;
/** Each kind's result type (what JobStatus's `result` holds for that kind). */
export type JobResults = {
  import: ImportReport;
  export: ExportSummary;
  relink: RelinkReport;
  predict: PredictionReport;
  segment: SegmentationResult;
  train: TrainingReport;
  merge: MergeReport;
};
export type JobResult<K extends JobKind> = JobResults[K];

/** A job's status from its fields, kind and result: the one place a generic kind meets its result type. */
export function jobStatus<K extends JobKind>(fields: JobFields, kind: K, result?: JobResult<K>): JobStatus {
  // JobRunner.start ties `kind` and the result's type together in its signature; TypeScript cannot
  // follow that correlation through a generic into the union (microsoft/TypeScript#30581).
  return (result === undefined ? { ...fields, kind } : { ...fields, kind, result }) as JobStatus;
}

const resultOf: { [K in JobKind]: (status: JobStatus) => JobResult<K> | undefined } = {
  import: (s) => (s.kind === 'import' ? s.result : undefined),
  export: (s) => (s.kind === 'export' ? s.result : undefined),
  relink: (s) => (s.kind === 'relink' ? s.result : undefined),
  predict: (s) => (s.kind === 'predict' ? s.result : undefined),
  segment: (s) => (s.kind === 'segment' ? s.result : undefined),
  train: (s) => (s.kind === 'train' ? s.result : undefined),
  merge: (s) => (s.kind === 'merge' ? s.result : undefined),
};

/** A job's result, if it is of `kind` and has one. */
export function jobResult<K extends JobKind>(status: JobStatus, kind: K): JobResult<K> | undefined {
  return resultOf[kind](status);
}

const Empty = z.object({}).strict();
const JobStarted = z.object({ jobId: z.string() });

const op = <I extends z.ZodType, O extends z.ZodType>(input: I, output: O) => ({ input, output });

/**
 * Operations, by name. The name is the IPC channel suffix, the HTTP path (`POST /api/<name>`) and
 * the preload method name.
 */
export const operations = {
  getProjectInfo: op(Empty, ProjectInfo),
  setAnnotator: op(z.object({ annotator: AnnotatorName }), ProjectInfo),
  listLabels: op(Empty, z.array(Label)),
  saveLabel: op(
    z.object({
      id: Id.optional(),
      name: z.string().trim().min(1).max(40),
      color: HexColor,
      hotkey: Hotkey.nullable(),
      /** The guideline's definition; left out: unchanged. */
      definition: LabelDefinition.optional(),
      /** The example utterances, in order; left out: unchanged. */
      examples: z.array(Id).max(MAX_LABEL_EXAMPLES).optional(),
    }),
    z.array(Label),
  ),
  deleteLabel: op(z.object({ id: Id }), z.array(Label)),
  /** How many annotations use each label (a label in use cannot be deleted). */
  labelUsage: op(Empty, z.array(z.object({ labelId: Id, annotations: z.number().int() }))),
  /**
   * The filtered list, one page at a time (`offset`, at most `limit` rows; no limit: all of it) in a
   * total order: `filtered` counts every row the filter matches, `total` the project's utterances.
   */
  listUtterances: op(
    UtteranceFilter.extend({
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(1).max(100_000).nullable().default(null),
    }),
    z.object({
      rows: z.array(UtteranceRow),
      total: z.number().int(),
      filtered: z.number().int(),
      offset: z.number().int(),
    }),
  ),
  getAnnotation: op(z.object({ utteranceId: Id }), Annotation.nullable()),
  setLabel: op(z.object({ utteranceId: Id, labelId: Id.nullable() }), z.object({ row: UtteranceRow })),
  setDimensions: op(
    z.object({
      utteranceId: Id,
      valence: DimensionScore.nullable(),
      arousal: DimensionScore.nullable(),
      dominance: DimensionScore.nullable(),
      note: z.string().max(2000),
    }),
    z.object({ row: UtteranceRow }),
  ),
  /** Flags the utterance "unsure / skip" for the current annotator, or clears the flag (one undoable edit). */
  setUnsure: op(z.object({ utteranceId: Id, unsure: z.boolean() }), z.object({ row: UtteranceRow })),
  /**
   * Edits the utterance's transcript and/or speaker in place (a field left out stays; a blank speaker
   * is none): one undoable step, in the segment history, that Undo/Redo walk with the others.
   */
  setUtteranceText: op(
    z
      .object({
        utteranceId: Id,
        transcript: z.string().max(10_000).optional(),
        speaker: z.string().trim().max(200).nullable().optional(),
      })
      .refine((r) => r.transcript !== undefined || r.speaker !== undefined, 'give a transcript, a speaker or both'),
    z.object({ row: UtteranceRow }),
  ),
  undo: op(Empty, HistoryStep),
  redo: op(Empty, HistoryStep),
  /** Voice activity detection (Silero VAD v5) as a job: its result proposes segments and changes nothing. */
  startSegmentation: op(
    z.object({ scope: SegmentScope.default({}), params: VadParams.default(VadParams.parse({})) }),
    JobStarted,
  ),
  /** Commits proposed segments in one undoable step; overlaps with existing utterances are skipped or refused. */
  commitSegments: op(CommitSegmentsRequest, CommitSegmentsResult),
  createSegment: op(segmentOperationInputs.createSegment, SegmentEditResult),
  /** New edges for a segment; with `snap`, each moved edge is snapped (in the core, from the audio). */
  resizeSegment: op(segmentOperationInputs.resizeSegment, ResizeSegmentResult),
  splitSegment: op(segmentOperationInputs.splitSegment, SegmentEditResult),
  mergeSegmentWithNext: op(segmentOperationInputs.mergeSegmentWithNext, SegmentEditResult),
  deleteSegment: op(segmentOperationInputs.deleteSegment, SegmentEditResult),
  /**
   * The utterance's waveform with `contextSeconds` around it, or (`window`) a time range of its
   * recording, clamped to the recording: the deep zoom of a long recording draws a window of it.
   */
  getWaveform: op(
    z.object({
      utteranceId: Id,
      contextSeconds: z.number().min(0).max(10).default(0.5),
      window: WaveformWindow.optional(),
    }),
    Waveform,
  ),
  /** The spectrogram of a time range of a recording, one tile (only that range of the audio is read). */
  getSpectrogramTile: op(SpectrogramTileRequest, SpectrogramTile),
  /** The whole recording at a glance (peaks, segments and their labels), for the overview under the waveform. */
  getRecordingOverview: op(RecordingOverviewRequest, RecordingOverview),
  /** What `startImport` with the same request would read (format, counts, mapping, tiers); writes nothing. */
  previewImport: op(ImportRequest, ImportPreview),
  startImport: op(ImportRequest, JobStarted),
  startExport: op(ExportRequest, JobStarted),
  startRelink: op(z.object({ folder: z.string().min(1) }), JobStarted),
  listModels: op(Empty, z.array(ModelInfo)),
  addModel: op(z.object({ path: z.string().min(1) }), z.array(ModelInfo)),
  setActiveModel: op(z.object({ id: Id }), z.array(ModelInfo)),
  getPrediction: op(z.object({ utteranceId: Id }), Prediction.nullable()),
  /** Accepts the active model's prediction as the person's label (Enter). */
  acceptPrediction: op(z.object({ utteranceId: Id }), z.object({ row: UtteranceRow })),
  startPrediction: op(
    z.object({
      filter: UtteranceFilter.optional(),
      device: Device.default('auto'),
      precision: Precision.default('auto'),
      /** Re-run utterances that already have a prediction from this model version. */
      recompute: z.boolean().default(false),
    }),
    JobStarted,
  ),
  /** Removes a model and its predictions (if it was the active one, the newest other model becomes active). */
  removeModel: op(z.object({ id: Id }), z.array(ModelInfo)),
  /** Names a model for the team (null or blank: the bundle's own name). */
  renameModel: op(z.object({ id: Id, name: z.string().trim().max(80).nullable() }), z.array(ModelInfo)),
  /** Where a model came from: model.json's training data, recipe and metrics. */
  getModelProvenance: op(z.object({ id: Id }), ModelProvenance),
  /** The model report: one model version's stored predictions against the human labels in the filter. */
  getModelReport: op(z.object({ modelId: Id.optional(), filter: UtteranceFilter.optional() }), ModelReport),
  /** Two model versions on the same labelled utterances. */
  compareModels: op(z.object({ a: Id, b: Id, filter: UtteranceFilter.optional() }), ModelComparison),
  /** What a bulk accept at this threshold would do, before it is done. */
  previewBulkAccept: op(
    z.object({ threshold: z.number().min(0).max(1), filter: UtteranceFilter.optional() }),
    BulkAcceptPreview,
  ),
  /** Accepts the active model's predictions ≥ threshold in the filter as your labels, in one undoable step. */
  bulkAccept: op(
    z.object({
      threshold: z.number().min(0).max(1),
      filter: UtteranceFilter.optional(),
      /** The preview's count: refused if it changed since. */
      expectedCount: z.number().int().min(0),
    }),
    z.object({ accepted: z.number().int() }),
  ),
  /** Fine-tunes (or trains from scratch) on the project's human labels as a 'train' job; the new model is registered, not activated. */
  startTraining: op(TrainingRequest, JobStarted),
  listJobs: op(Empty, z.array(JobStatus)),
  cancelJob: op(z.object({ jobId: z.string() }), z.object({ cancelled: z.boolean() })),
  /** The roster: annotators and adjudicators (and anyone with labels not yet on it). */
  listAnnotators: op(Empty, z.array(RosterEntry)),
  /** Adds a person to the roster, or changes their role. */
  saveAnnotator: op(z.object({ name: AnnotatorName, role: AnnotatorRole.default('annotator') }), z.array(RosterEntry)),
  /** Refused while the person has annotations or adjudications. */
  removeAnnotator: op(z.object({ name: AnnotatorName }), z.array(RosterEntry)),
  /**
   * An annotator's share of the utterances (0 < share <= 1). Refused, changing nothing, outside that
   * range, for an adjudicator, or when the annotators' shares would add up to fewer than K.
   */
  setAnnotatorShare: op(z.object({ name: AnnotatorName, share: z.number() }), z.array(RosterEntry)),
  getLabellingSettings: op(Empty, LabellingSettings),
  setLabellingSettings: op(LabellingSettings.partial(), LabellingSettings),
  /** Every annotator's label, V/A/D and note for one utterance, its consensus and adjudication (blind mode applies). */
  getConsensus: op(z.object({ utteranceId: Id }), ConsensusDetail),
  /** An adjudicator (the current annotator, adjudicator on the roster) sets the final label with a reason. */
  adjudicate: op(
    z.object({ utteranceId: Id, labelId: Id, reason: z.string().trim().min(1).max(2000) }),
    ConsensusDetail,
  ),
  getAgreement: op(AgreementRequest, AgreementReport),
  /**
   * Merges a hand-out copy (`wavfusion handout`) into the open project as a 'merge' job, in one
   * transaction: recordings by checksum, utterances by recording and span, annotations by utterance and
   * annotator (the later change wins; both sides changed: a conflict, reported). A copy with no recording
   * in common is refused and changes nothing; merging the same copy again changes nothing.
   */
  startMerge: op(MergeRequest, JobStarted),
  /** The merges made into this project, newest first. */
  listMerges: op(Empty, z.array(MergeRecord)),
  /** Reverts the newest merge not yet undone, as one step (annotations edited since are kept). */
  undoMerge: op(Empty, MergeUndoReport),
  /**
   * Projects. `newProject` creates a project file (refused where a file exists) and opens it;
   * `openProject` opens an existing one (a file that is not a WavFusion project, or is newer than the
   * app, is refused and the open project stays). Either closes the open project first, once the new one
   * opened; running jobs refuse the switch. Every window then gets `projectOpened`.
   */
  newProject: op(NewProjectRequest, ProjectInfo),
  openProject: op(OpenProjectRequest, ProjectInfo),
  renameProject: op(z.object({ name: ProjectName }), ProjectInfo),
  /** Recently opened projects, newest first (kept in the studio's home folder). */
  listRecentProjects: op(Empty, z.array(RecentProject)),
  /** Takes a project off the recent list; the file is left alone. */
  forgetRecentProject: op(OpenProjectRequest, z.array(RecentProject)),
  /**
   * The folder and file picker of web mode: one folder's sub-folders and matching files (names only),
   * confined to the home folder and the folders of the projects opened.
   */
  browsePath: op(BrowseRequest, BrowseListing),
} as const;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type OperationInput<N extends OperationName> = z.input<Operations[N]['input']>;
export type OperationParsedInput<N extends OperationName> = z.output<Operations[N]['input']>;
export type OperationOutput<N extends OperationName> = z.output<Operations[N]['output']>;
export const operationNames = Object.keys(operations) as OperationName[];

/**
 * Events the core pushes to every connected renderer: each change to the project is announced once,
 * by the service that made it, after it is committed. A renderer refreshes only in response to them,
 * and only what changed.
 */
export const events = {
  jobUpdated: JobStatus,
  /**
   * One utterance's row changed: its annotation (a label, ratings, a note, the unsure flag, undo/redo,
   * an accepted prediction) or, edited in place, its transcript or speaker.
   */
  annotationChanged: z.object({ row: UtteranceRow }),
  /** The label set changed (added, renamed, recoloured, hotkey moved, deleted, or added by an import). */
  labelsChanged: z.array(Label),
  /**
   * The list changed beyond single rows: `added`, an import added utterances; `relinked`, moved
   * recordings were found again; `annotator`, another annotator's labels are now the ones shown;
   * `labelled`, many labels changed in one step (a bulk accept, or its undo or redo); `segments`, a
   * segment edit (VAD commit, create, resize, split, merge, delete, or its undo or redo).
   */
  utterancesChanged: z.object({
    change: z.enum(['added', 'relinked', 'annotator', 'labelled', 'segments']),
    /** Utterances added, recordings relinked or labels changed (0 for `annotator`). */
    count: z.number().int(),
  }),
  /** The registered models or the active one changed. */
  modelsChanged: z.array(ModelInfo),
  /** The predictions shown changed: a model run stored some, or another model became active. */
  predictionsChanged: z.object({ modelId: Id.nullable(), count: z.number().int() }),
  /** The roster or the labelling settings (K, blind mode, consensus rule) changed: rows may show more or less. */
  labellingChanged: z.object({ settings: LabellingSettings, roster: z.array(RosterEntry) }),
  /** Another project was opened (everything shown is the new project's), or this one was renamed. */
  projectOpened: z.object({ info: ProjectInfo, reason: z.enum(['opened', 'created', 'renamed']) }),
} as const;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<N extends EventName> = z.output<Events[N]>;
export const eventNames = Object.keys(events) as EventName[];

/** IPC channel names, one place (electron/fiddle style). */
export const ipcChannel = {
  invoke: (name: OperationName) => `wavfusion:invoke:${name}` as const,
  event: (name: EventName) => `wavfusion:event:${name}` as const,
  chooseFolder: 'wavfusion:desktop:chooseFolder',
  chooseProjectFile: 'wavfusion:desktop:chooseProjectFile',
} as const;

/** Error shape returned by both transports. `code` is stable; `message` is for people. */
export const ApiErrorBody = z.object({
  code: z.enum(['invalid_request', 'not_found', 'conflict', 'unsupported', 'internal', 'forbidden']),
  message: z.string(),
  issues: z.array(z.string()).optional(),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** One method per operation, as a client offers them. */
export type StudioOperations = {
  [N in OperationName]: (input: OperationInput<N>) => Promise<OperationOutput<N>>;
};

/** Builds the operation methods of a client from one generic function (what each transport does per name). */
export function operationMethods(
  method: <N extends OperationName>(name: N) => (input: OperationInput<N>) => Promise<OperationOutput<N>>,
): StudioOperations {
  return Object.fromEntries(operationNames.map((name) => [name, method(name)])) as StudioOperations;
}

/** Checks an event's payload against the contract (a client does, before its listeners see it). */
export function parseEvent<E extends EventName>(event: E, payload: unknown): EventPayload<E> {
  // The schema is the event's own; TypeScript cannot follow a generic key into the union of schemas.
  return events[event].parse(payload) as EventPayload<E>;
}

/** Checks an operation's output against the contract (a client does, before its caller sees it). */
export function parseOutput<N extends OperationName>(name: N, output: unknown): OperationOutput<N> {
  return operations[name].output.parse(output) as OperationOutput<N>;
}

/**
 * The connection to the host, for a transport that can lose it (http: the host process may stop and
 * come back on the same address). Online again means the event stream is open again.
 */
export interface HostConnection {
  /** False from when the host was found unreachable until the event stream reconnects. */
  readonly online: boolean;
  /** Called on each change; returns the unsubscribe. */
  onChange(listener: (online: boolean) => void): () => void;
  /** Resolves once the host is reachable again (at once while it is). */
  whenOnline(): Promise<void>;
}

/** A client of the contract: what the renderer programs against, whatever the transport. */
export type StudioClient = StudioOperations & {
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  /** Absolute URL for a `mediaPath` returned by getWaveform. */
  mediaUrl(mediaPath: string): string;
  /** Native folder picker; null where the transport has none (browser). */
  chooseFolder: (() => Promise<string | null>) | null;
  /** Native project-file dialogs (open an existing file, name a new one); null where the transport has none (browser). */
  chooseProjectFile: ((mode: 'open' | 'new') => Promise<string | null>) | null;
  readonly transport: 'ipc' | 'http';
  /** The host connection where the transport can lose it (http); null where it cannot (ipc). */
  readonly connection: HostConnection | null;
};
