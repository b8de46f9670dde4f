import {
  AdjudicationsRepository,
  AnnotatorsRepository,
  LabellingSettingsRepository,
  type AdjudicationRecord,
  type LabellingSettings,
} from '../db/annotators-repository';
import type { Db } from '../db/open-database';
import { assignees, isAssigned, isCalibration, type Assignee } from './assignment';
import { consensusLabel, itemAgreement } from './stats';

export type ConsensusState = 'pending' | 'agreed' | 'disagreed' | 'adjudicated';

/** One annotator's current annotation of an utterance that counts as a vote. */
export interface Vote {
  utteranceId: number;
  annotator: string;
  labelId: number | null;
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
}

export interface ItemConsensus {
  state: ConsensusState;
  /** The adjudicated label, else the consensus label under the rule, else null. */
  labelId: number | null;
  /** How many annotators gave a label. */
  labels: number;
  /** Votes per label id. */
  counts: Map<number, number>;
  /** The share of agreeing pairs of labels (null below two labels). */
  agreement: number | null;
  adjudication: AdjudicationRecord | null;
}

/**
 * Votes: every person's (origin 'human') annotation, except those of adjudicators, who settle
 * disagreements rather than vote. Imported manifest labels (origin 'import') are no annotator's.
 */
export function loadVotes(db: Db, utteranceIds?: number | readonly number[]): Map<number, Vote[]> {
  const sql = `SELECT a.utterance_id AS utteranceId, a.annotator, a.label_id AS labelId, a.valence, a.arousal, a.dominance
               FROM annotations a LEFT JOIN annotators r ON r.name = a.annotator
               WHERE a.origin = 'human' AND (r.role IS NULL OR r.role = 'annotator')
                 ${utteranceIds === undefined ? '' : `AND a.utterance_id ${idsIn(utteranceIds)}`}
               ORDER BY a.utterance_id, a.annotator`;
  const rows = db.prepare<[], Vote>(sql).all();
  const out = new Map<number, Vote[]>();
  for (const v of rows) {
    const list = out.get(v.utteranceId);
    if (list) list.push(v);
    else out.set(v.utteranceId, [v]);
  }
  return out;
}

/** The state of one utterance under the project's settings. */
export function itemConsensus(
  votes: readonly Vote[],
  settings: LabellingSettings,
  adjudication: AdjudicationRecord | null = null,
): ItemConsensus {
  const labels = votes.filter((v) => v.labelId !== null).map((v) => v.labelId!);
  const counts = new Map<number, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const agreement = itemAgreement(labels);
  const base = { labels: labels.length, counts, agreement, adjudication };
  if (adjudication) return { ...base, state: 'adjudicated', labelId: adjudication.labelId };
  if (labels.length < settings.labelsPerUtterance) return { ...base, state: 'pending', labelId: null };
  const label = consensusLabel(labels, settings.consensusRule);
  return { ...base, state: label === null ? 'disagreed' : 'agreed', labelId: label };
}

/**
 * Every utterance's consensus, or only that of `utteranceIds` (utterances without votes or
 * adjudication are absent: pending, 0 labels).
 */
export function projectConsensus(db: Db, utteranceIds?: number | readonly number[]) {
  const settings = new LabellingSettingsRepository(db).get();
  const votes = loadVotes(db, utteranceIds);
  const adjudications = new AdjudicationsRepository(db).current(utteranceIds);
  const items = new Map<number, ItemConsensus>();
  for (const [id, v] of votes) items.set(id, itemConsensus(v, settings, adjudications.get(id) ?? null));
  for (const [id, a] of adjudications) if (!items.has(id)) items.set(id, itemConsensus([], settings, a));
  return { settings, votes, items };
}

/** Up to this many rows, `withConsensus` reads only their votes; more: every vote, in one scan. */
const OWN_VOTES_MAX = 2000;

/** `IN (…)` over integer ids, written into the statement (no parameter limit; ids are checked integers). */
function idsIn(ids: number | readonly number[]): string {
  const list = (typeof ids === 'number' ? [ids] : ids).filter(Number.isInteger);
  return `IN (${list.join(', ') || 'NULL'})`;
}

export const PENDING = (settings: LabellingSettings): ItemConsensus => itemConsensus([], settings);

/** A list row as the repository builds it, before consensus and blind mode apply. */
interface BaseRow {
  id: number;
  labelId: number | null;
  importedLabelId: number | null;
  prediction: unknown;
}

export type ConsensusFilterValue =
  'any' | 'needs_my_label' | 'needs_more_labels' | 'complete' | 'agreed' | 'disagreed' | 'adjudicated';

/**
 * Who labels, with their shares (docs: ./assignment.ts): the roster's annotators, and people with
 * labels who are not on the roster (share 1, as everyone before shares). Adjudicators are not assigned.
 */
export function assignmentPool(db: Db): Assignee[] {
  const roster = new AnnotatorsRepository(db).list();
  const pool = roster.filter((r) => r.role === 'annotator').map((r) => ({ name: r.name, share: r.share }));
  // The distinct human annotators by a skip scan of annotations_by_annotator (migration 013): one
  // index seek per annotator, not a read of every annotation; those on the roster are left out.
  const offRoster = db
    .prepare<[], { name: string }>(
      `WITH RECURSIVE people(name) AS (
         SELECT MIN(annotator) FROM annotations WHERE origin = 'human'
         UNION ALL
         SELECT (SELECT MIN(annotator) FROM annotations WHERE origin = 'human' AND annotator > people.name)
         FROM people WHERE people.name IS NOT NULL
       )
       SELECT name FROM people WHERE name IS NOT NULL AND name NOT IN (SELECT name FROM annotators)
       ORDER BY name`,
    )
    .all();
  return [...pool, ...offRoster.map((r) => ({ name: r.name, share: 1 }))];
}

/**
 * Whether `viewer`'s label is wanted on an utterance ("needs my label"): for an adjudicator, a
 * disagreement awaiting them; for an annotator, one assigned to them (./assignment.ts) that they have
 * not labelled and that still needs labels, or that is in the calibration set (wanted from everyone).
 */
export function needsLabelOf(db: Db, viewer: string, settings: LabellingSettings) {
  const roster = new AnnotatorsRepository(db);
  const adjudicator = roster.role(viewer) === 'adjudicator';
  const pool = adjudicator ? [] : assignmentPool(db);
  const share = pool.find((a) => a.name === viewer)?.share ?? 1;
  const k = settings.labelsPerUtterance;
  const calibration = settings.calibrationShare;
  return (utteranceId: number, c: ItemConsensus, ownLabel: boolean): boolean => {
    if (adjudicator) return c.state === 'disagreed';
    if (ownLabel) return false;
    const everyone = isCalibration(utteranceId, calibration);
    if (!everyone && c.state !== 'pending') return false;
    return everyone || share >= 1 || assignees(utteranceId, pool, k, calibration).includes(viewer);
  };
}

/** Dbs on which the assignment functions below are registered. */
const withAssignmentFunctions = new WeakSet<Db>();

/** Whose queue `wavfusion_assigned` asks about, by key: the latest few `needs_my_label` queries'. */
const assignmentContexts = new Map<number, { viewer: string; pool: Assignee[]; k: number; calibration: number }>();
let lastAssignmentContext = 0;

/**
 * Registers (once per connection) the SQL functions the `needs_my_label` filter calls, so that SQL
 * applies exactly ./assignment.ts's rules: `wavfusion_calibration(utteranceId, share)` and
 * `wavfusion_assigned(utteranceId, contextKey)` (1 or 0; the key names the viewer, pool, K and
 * calibration share, kept here rather than passed as text to every call).
 */
function registerAssignmentFunctions(db: Db): void {
  if (withAssignmentFunctions.has(db)) return;
  db.function('wavfusion_calibration', { deterministic: true }, (id, share) =>
    isCalibration(Number(id), Number(share)) ? 1 : 0,
  );
  db.function('wavfusion_assigned', { deterministic: true }, (id, key) => {
    const c = assignmentContexts.get(Number(key));
    if (!c) throw new Error(`wavfusion_assigned: no context ${String(key)}`);
    return isAssigned(Number(id), c.viewer, c.pool, c.k, c.calibration) ? 1 : 0;
  });
  withAssignmentFunctions.add(db);
}

function assignmentContext(viewer: string, pool: Assignee[], k: number, calibration: number): number {
  const key = ++lastAssignmentContext;
  assignmentContexts.set(key, { viewer, pool, k, calibration });
  for (const old of assignmentContexts.keys()) {
    if (assignmentContexts.size <= 16) break;
    assignmentContexts.delete(old);
  }
  return key;
}

/** The join that gives a list query (utterances as `u`) each utterance's tally as `c` (migration 014). */
export const TALLY_JOIN = 'LEFT JOIN vote_tallies c ON c.utterance_id = u.id';

/** Whether the utterance still needs labels (state 'pending'), over its tally `c` (`TALLY_JOIN`). */
function pendingSql(settings: LabellingSettings): string {
  return `(c.adjudicated_label IS NULL AND COALESCE(c.labels, 0) < ${Math.trunc(settings.labelsPerUtterance)})`;
}

/**
 * An utterance's `ConsensusState` ('pending', 'agreed', 'disagreed', 'adjudicated') as SQL over its
 * tally `c` (`TALLY_JOIN`): `itemConsensus`'s rules. Majority: one label has strictly the most votes;
 * unanimous: one distinct label.
 */
export function consensusStateSql(settings: LabellingSettings): string {
  const agreed = settings.consensusRule === 'unanimous' ? 'c.distinct_labels = 1' : 'c.top_label IS NOT NULL';
  return `(CASE WHEN c.adjudicated_label IS NOT NULL THEN 'adjudicated'
                WHEN COALESCE(c.labels, 0) < ${Math.trunc(settings.labelsPerUtterance)} THEN 'pending'
                WHEN ${agreed} THEN 'agreed' ELSE 'disagreed' END)`;
}

/**
 * The consensus filter as `viewer` sees it, as a WHERE term over a list query's utterance `u`, the
 * viewer's own human annotation `h` (LEFT JOINed) and the utterance's tally `c` (`TALLY_JOIN`), with
 * its parameters; null for 'any'. The same rules as `withConsensus` below (`itemConsensus`,
 * `needsLabelOf`, `keeps`), applied to the tallies the triggers of migration 014 keep: the list filters
 * and counts in SQL and builds only its page's rows.
 */
export function consensusFilterSql(
  db: Db,
  viewer: string,
  filter: ConsensusFilterValue,
): { sql: string; params: Record<string, unknown> } | null {
  if (filter === 'any') return null;
  const settings = new LabellingSettingsRepository(db).get();
  const adjudicator = new AnnotatorsRepository(db).role(viewer) === 'adjudicator';
  const params: Record<string, unknown> = {};
  const pending = pendingSql(settings);
  const state = consensusStateSql(settings);
  // Blind mode: a row the viewer has not labelled shows no state, so no state filter keeps it.
  const shown = settings.blind && !adjudicator ? 'h.label_id IS NOT NULL' : '1';
  switch (filter) {
    case 'needs_more_labels':
      return { sql: pending, params };
    case 'complete':
      return { sql: `NOT ${pending}`, params };
    case 'agreed':
    case 'disagreed':
    case 'adjudicated':
      return { sql: `(${shown} AND ${state} = @consensusState)`, params: { ...params, consensusState: filter } };
    case 'needs_my_label': {
      if (adjudicator) return { sql: `${state} = 'disagreed'`, params };
      const pool = assignmentPool(db);
      const share = pool.find((a) => a.name === viewer)?.share ?? 1;
      const calibration = settings.calibrationShare;
      registerAssignmentFunctions(db);
      const everyone = calibration > 0 ? 'wavfusion_calibration(u.id, @consensusCalibration) = 1 OR ' : '';
      // CASE: the assignment (a JS call) only for the utterances that still need labels.
      const assigned =
        share >= 1 ? pending : `(CASE WHEN ${pending} THEN wavfusion_assigned(u.id, @consensusAssignment) END = 1)`;
      return {
        sql: `(h.label_id IS NULL AND (${everyone}${assigned}))`,
        params: {
          ...params,
          consensusCalibration: calibration,
          consensusAssignment: assignmentContext(viewer, pool, settings.labelsPerUtterance, calibration),
        },
      };
    }
  }
}

/**
 * Whether a row passes the consensus filter as `viewer` sees it. A hidden row (blind mode) matches only
 * the filters its label count and the viewer's own label decide, so a filter never reveals a state.
 */
function keeps(filter: ConsensusFilterValue, c: ItemConsensus, hidden: boolean, needsMe: boolean): boolean {
  switch (filter) {
    case 'any':
      return true;
    case 'needs_my_label':
      return needsMe;
    case 'needs_more_labels':
      return c.state === 'pending';
    case 'complete':
      return c.state !== 'pending';
    case 'agreed':
    case 'disagreed':
    case 'adjudicated':
      return !hidden && c.state === filter;
  }
}

/**
 * Adds everyone's labels to list rows as `viewer` may see them, and keeps the rows the consensus
 * filter asks for. Blind mode: until the viewer has labelled an utterance (a row's `labelId` is the
 * viewer's own label), its consensus, the manifest's label and (if so set) the model's prediction are
 * hidden; adjudicators see everything. A hidden row matches only the filters its label count decides.
 */
export function withConsensus<R extends BaseRow>(
  db: Db,
  rows: R[],
  viewer: string,
  filter: ConsensusFilterValue = 'any',
): (R & { consensus: RowConsensusValue })[] {
  if (rows.length === 0) return [];
  // A page's own utterances (a list of thousands of rows, as a consensus filter reads: all of them).
  const { settings, items } = projectConsensus(db, rows.length <= OWN_VOTES_MAX ? rows.map((r) => r.id) : undefined);
  const role = new AnnotatorsRepository(db).role(viewer);
  const blindFor = settings.blind && role !== 'adjudicator';
  const needsLabel = needsLabelOf(db, viewer, settings);
  const out: (R & { consensus: RowConsensusValue })[] = [];
  for (const row of rows) {
    const c = items.get(row.id) ?? itemConsensus([], settings);
    const hidden = blindFor && row.labelId === null;
    const needsMe = needsLabel(row.id, c, row.labelId !== null);
    if (!keeps(filter, c, hidden, needsMe)) continue;
    const consensus: RowConsensusValue = {
      state: hidden ? null : c.state,
      labels: c.labels,
      needed: settings.labelsPerUtterance,
      labelId: hidden ? null : c.labelId,
      hidden,
      needsMe,
    };
    out.push(
      hidden
        ? {
            ...row,
            importedLabelId: null,
            prediction: settings.blindModel ? null : row.prediction,
            consensus,
          }
        : { ...row, consensus },
    );
  }
  return out;
}

export interface RowConsensusValue {
  state: ConsensusState | null;
  labels: number;
  needed: number;
  labelId: number | null;
  hidden: boolean;
  /** The viewer's label is wanted here: what the `needs_my_label` filter keeps. */
  needsMe: boolean;
}
