import type { Db } from './open-database';

export type AnnotatorRole = 'annotator' | 'adjudicator';
export type ConsensusRule = 'majority' | 'unanimous';

export interface RosterEntry {
  name: string;
  role: AnnotatorRole;
  addedAt: string;
  /** The annotator's share of the utterances (0 < share <= 1; 1: all). See agreement/assignment.ts. */
  share: number;
}

export interface LabellingSettings {
  /** Labels needed per utterance (K). */
  labelsPerUtterance: number;
  /** Others' labels stay hidden from an annotator until they have labelled the utterance. */
  blind: boolean;
  /** In blind mode, the model's prediction is hidden too. */
  blindModel: boolean;
  consensusRule: ConsensusRule;
  /** The part of the utterances (0 to 1, by a stable hash) assigned to every annotator. */
  calibrationShare: number;
}

export interface AdjudicationRecord {
  utteranceId: number;
  labelId: number;
  adjudicator: string;
  reason: string;
  at: string;
}

/** The roster: who labels (annotators) and who settles disagreements (adjudicators). Names ignore case. */
export class AnnotatorsRepository {
  constructor(private readonly db: Db) {}

  list(): RosterEntry[] {
    return this.db
      .prepare<[], RosterEntry>(`SELECT name, role, added_at AS addedAt, share FROM annotators ORDER BY id`)
      .all();
  }

  /** The entry whose name equals `name` ignoring (ASCII) case, if any. */
  byName(name: string): RosterEntry | undefined {
    return this.db
      .prepare<[string], RosterEntry>(`SELECT name, role, added_at AS addedAt, share FROM annotators WHERE name = ?`)
      .get(name);
  }

  insert(name: string, role: AnnotatorRole, at: string): void {
    this.db.prepare('INSERT INTO annotators (name, role, added_at) VALUES (?, ?, ?)').run(name, role, at);
  }

  /** Adds `name` as an annotator unless someone of that name (ignoring case) is on the roster. */
  ensure(name: string, at: string): void {
    this.db.prepare(`INSERT OR IGNORE INTO annotators (name, role, added_at) VALUES (?, 'annotator', ?)`).run(name, at);
  }

  setRole(name: string, role: AnnotatorRole): void {
    this.db.prepare('UPDATE annotators SET role = ? WHERE name = ?').run(role, name);
  }

  setShare(name: string, share: number): void {
    this.db.prepare('UPDATE annotators SET share = ? WHERE name = ?').run(share, name);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM annotators WHERE name = ?').run(name);
  }

  role(name: string): AnnotatorRole {
    return this.byName(name)?.role ?? 'annotator';
  }
}

/** The project's labelling settings (one row). */
export class LabellingSettingsRepository {
  constructor(private readonly db: Db) {}

  get(): LabellingSettings {
    const r = this.db
      .prepare<[], { k: number; blind: number; blindModel: number; rule: ConsensusRule; calibration: number }>(
        `SELECT labels_per_utterance AS k, blind, blind_model AS blindModel, consensus_rule AS rule,
                calibration_share AS calibration FROM labelling_settings WHERE id = 1`,
      )
      .get()!;
    return {
      labelsPerUtterance: r.k,
      blind: r.blind === 1,
      blindModel: r.blindModel === 1,
      consensusRule: r.rule,
      calibrationShare: r.calibration,
    };
  }

  set(s: LabellingSettings): void {
    this.db
      .prepare(
        `UPDATE labelling_settings SET labels_per_utterance = ?, blind = ?, blind_model = ?, consensus_rule = ?,
                calibration_share = ? WHERE id = 1`,
      )
      .run(s.labelsPerUtterance, s.blind ? 1 : 0, s.blindModel ? 1 : 0, s.consensusRule, s.calibrationShare);
  }
}

/** Adjudications: append-only; the newest per utterance is the final label. */
export class AdjudicationsRepository {
  constructor(private readonly db: Db) {}

  add(a: AdjudicationRecord): void {
    this.db
      .prepare(`INSERT INTO adjudications (utterance_id, label_id, adjudicator, reason, at) VALUES (?, ?, ?, ?, ?)`)
      .run(a.utteranceId, a.labelId, a.adjudicator, a.reason, a.at);
  }

  /** The newest adjudication per utterance (of the given utterances only, when given). */
  current(utteranceIds?: number | readonly number[]): Map<number, AdjudicationRecord> {
    const only =
      utteranceIds === undefined
        ? ''
        : `WHERE utterance_id IN (${(typeof utteranceIds === 'number' ? [utteranceIds] : utteranceIds).filter(Number.isInteger).join(', ') || 'NULL'})`;
    const sql = `SELECT utterance_id AS utteranceId, label_id AS labelId, adjudicator, reason, at FROM adjudications
                 WHERE id IN (SELECT MAX(id) FROM adjudications ${only} GROUP BY utterance_id)`;
    const rows = this.db.prepare<[], AdjudicationRecord>(sql).all();
    return new Map(rows.map((r) => [r.utteranceId, r]));
  }

  countBy(adjudicator: string): number {
    return (
      this.db.prepare('SELECT COUNT(*) AS n FROM adjudications WHERE adjudicator = ?').get(adjudicator) as {
        n: number;
      }
    ).n;
  }
}
