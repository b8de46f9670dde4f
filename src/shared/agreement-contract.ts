/**
 * Contract schemas for several annotators per utterance: roster, labelling settings, consensus,
 * adjudication and the agreement report. Re-exported by contract.ts (import them from there).
 */
import { z } from 'zod';

const Id = z.number().int().positive();
const Score = z.number().min(1).max(5);

export const AnnotatorRole = z.enum(['annotator', 'adjudicator']);
export type AnnotatorRole = z.infer<typeof AnnotatorRole>;

export const RosterEntry = z.object({
  name: z.string(),
  role: AnnotatorRole,
  /** Annotations (human, with or without a label) this person has. */
  annotations: z.number().int(),
  /** False for someone who has labels but was never added to the roster (e.g. from an older project). */
  onRoster: z.boolean(),
  /**
   * The annotator's share of the utterances: more than 0, at most 1 (1, the default: all of them). An
   * utterance needs an annotator's label only where it is assigned to them (src/main/agreement/assignment.ts).
   */
  share: z.number(),
});
export type RosterEntry = z.infer<typeof RosterEntry>;

export const ConsensusRule = z.enum(['majority', 'unanimous']);
export const LabellingSettings = z.object({
  /** Labels needed per utterance (K). */
  labelsPerUtterance: z.number().int().min(1).max(100),
  /** Others' labels are hidden from an annotator until they have labelled the utterance. */
  blind: z.boolean(),
  /** In blind mode, the model's prediction is hidden too. */
  blindModel: z.boolean(),
  /** `majority`: the label most votes went to (a tie goes to adjudication); `unanimous`: all must agree. */
  consensusRule: ConsensusRule,
  /** The part of the utterances (0 to 1; chosen by a stable hash of the id) every annotator labels. */
  calibrationShare: z.number().min(0).max(1),
});
export type LabellingSettings = z.infer<typeof LabellingSettings>;

export const ConsensusState = z.enum(['pending', 'agreed', 'disagreed', 'adjudicated']);
export type ConsensusState = z.infer<typeof ConsensusState>;

/** What a list row says about the utterance's labels from everyone. */
export const RowConsensus = z.object({
  /** Null while hidden (blind mode, before the current annotator has labelled it). */
  state: ConsensusState.nullable(),
  /** How many annotators have labelled it, and how many are needed. */
  labels: z.number().int(),
  needed: z.number().int(),
  /** The final label (adjudicated or consensus); null when there is none yet or it is hidden. */
  labelId: Id.nullable(),
  hidden: z.boolean(),
  /** The current annotator's label is wanted here (assigned to them, still needed): "needs my label". */
  needsMe: z.boolean(),
});
export type RowConsensus = z.infer<typeof RowConsensus>;

/**
 * `needs_my_label`: an annotator's queue, what they have not labelled while it still needs labels (for an
 * adjudicator: the disagreements awaiting them); `needs_more_labels`: fewer labels than needed (not
 * adjudicated); `complete`: enough, or adjudicated; `agreed`, `disagreed` (not yet adjudicated),
 * `adjudicated`: the consensus state, which blind mode hides until the annotator has labelled it.
 */
export const ConsensusFilter = z.enum([
  'any',
  'needs_my_label',
  'needs_more_labels',
  'complete',
  'agreed',
  'disagreed',
  'adjudicated',
]);

export const ConsensusDetail = z.object({
  utteranceId: Id,
  /** Blind mode, before the current annotator labelled it: only their own vote and the label count show. */
  hidden: z.boolean(),
  state: ConsensusState,
  labelId: Id.nullable(),
  labels: z.number().int(),
  needed: z.number().int(),
  agreement: z.number().nullable(),
  /** Votes per label id. */
  counts: z.array(z.object({ labelId: Id, votes: z.number().int() })),
  votes: z.array(
    z.object({
      annotator: z.string(),
      labelId: Id.nullable(),
      valence: Score.nullable(),
      arousal: Score.nullable(),
      dominance: Score.nullable(),
      note: z.string(),
      updatedAt: z.string(),
    }),
  ),
  adjudication: z.object({ labelId: Id, adjudicator: z.string(), reason: z.string(), at: z.string() }).nullable(),
});
export type ConsensusDetail = z.infer<typeof ConsensusDetail>;

const Interval = z.object({ low: z.number(), high: z.number(), replicates: z.number().int() });
/** A statistic with its bootstrap interval and how many units (or pairs) it rests on. */
export const Estimate = z.object({ value: z.number().nullable(), ci: Interval.nullable(), n: z.number().int() });
export type Estimate = z.infer<typeof Estimate>;

const DimensionAgreement = z.object({
  alphaInterval: Estimate,
  alphaOrdinal: Estimate,
  /** Lin's CCC of each annotator against the mean of the others on the same utterances. */
  ccc: z.array(z.object({ annotator: z.string(), ccc: z.number().nullable(), n: z.number().int() })),
});

export const AgreementReport = z.object({
  project: z.string(),
  settings: LabellingSettings,
  annotators: z.array(z.string()),
  labels: z.array(z.object({ id: Id, name: z.string() })),
  /** Utterances with at least one label, and with at least two (pairable). */
  items: z.number().int(),
  pairableItems: z.number().int(),
  consensus: z.record(ConsensusState, z.number().int()),
  categorical: z.object({
    fleissKappa: Estimate,
    krippendorffAlpha: Estimate,
    pairwise: z.array(
      z.object({
        a: z.string(),
        b: z.string(),
        kappa: z.number().nullable(),
        ci: Interval.nullable(),
        n: z.number().int(),
      }),
    ),
    /** Per label: the share of agreeing pairs among pairs involving it (specific agreement). */
    perClass: z.array(
      z.object({ labelId: Id, label: z.string(), agreement: z.number().nullable(), votes: z.number() }),
    ),
    /** Label pairs most often given to the same utterance by different annotators. */
    confusedPairs: z.array(z.object({ a: z.string(), b: z.string(), count: z.number() })),
    /** Each annotator against the consensus (majority) of the others on the same utterances. */
    perAnnotator: z.array(
      z.object({
        annotator: z.string(),
        n: z.number().int(),
        accuracy: z.number().nullable(),
        kappa: z.number().nullable(),
      }),
    ),
    /** The active model against the consensus of all annotators: compare with perAnnotator. */
    model: z
      .object({ name: z.string(), n: z.number().int(), accuracy: z.number().nullable(), kappa: z.number().nullable() })
      .nullable(),
  }),
  dimensions: z.object({ valence: DimensionAgreement, arousal: DimensionAgreement, dominance: DimensionAgreement }),
  bootstrap: z.object({ replicates: z.number().int(), seed: z.number().int() }),
  warnings: z.array(z.string()),
});
export type AgreementReport = z.infer<typeof AgreementReport>;

export const AgreementRequest = z.object({
  /** Bootstrap replicates for the 95% intervals (0: none). 200 keeps 100k utterances × 5 annotators at ~13 s. */
  bootstrap: z.number().int().min(0).max(10000).default(200),
  seed: z.number().int().default(13),
});
export type AgreementRequest = z.input<typeof AgreementRequest>;
