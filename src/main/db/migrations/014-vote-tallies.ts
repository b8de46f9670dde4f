import type { Migration } from './types';

/**
 * Each utterance's votes, tallied in SQL so that the consensus filters (needs more labels, complete,
 * agreed, disagreed, adjudicated, needs my label) filter and count in SQL instead of computing every
 * row's consensus in JS (2.3–2.5 s per filter change at 100,000 utterances × 5 annotators,
 * docs/benchmarks.md).
 *
 * `counted_votes` is the votes' definition of src/main/agreement/consensus.ts (`loadVotes`): a
 * person's (origin 'human') label, unless the roster names them (ignoring case) an adjudicator.
 * `vote_tallies` holds, per utterance with a vote or an adjudication, the facts its consensus state
 * follows from under any settings: how many labels, how many distinct labels, the label with strictly
 * the most votes (null on a tie) and the newest adjudication's label. K and the consensus rule are
 * applied when querying (`consensusStateSql`), so a settings change rewrites nothing. Triggers keep the
 * tallies in the transaction of every write that changes them (an annotation written, changed, moved
 * or deleted; an adjudication; a roster entry added, removed, renamed or given another role), whoever
 * writes (labelling, undo, segment edits, imports, merges and their undo).
 */
export const migration014: Migration = {
  version: 14,
  name: 'vote tallies',
  up(db) {
    db.exec(`
      CREATE VIEW counted_votes AS
        SELECT a.utterance_id, a.annotator, a.label_id
        FROM annotations a LEFT JOIN annotators r ON r.name = a.annotator
        WHERE a.origin = 'human' AND a.label_id IS NOT NULL AND (r.role IS NULL OR r.role = 'annotator');

      CREATE TABLE vote_tallies (
        utterance_id INTEGER PRIMARY KEY REFERENCES utterances(id) ON DELETE CASCADE,
        labels INTEGER NOT NULL,
        distinct_labels INTEGER NOT NULL,
        top_label INTEGER,
        adjudicated_label INTEGER
      ) STRICT;

      ${retally("SELECT utterance_id AS id FROM annotations WHERE origin = 'human' UNION SELECT utterance_id FROM adjudications")}

      CREATE TRIGGER vote_tallies_annotation_insert AFTER INSERT ON annotations WHEN NEW.origin = 'human'
      BEGIN ${retally('SELECT NEW.utterance_id AS id')} END;
      CREATE TRIGGER vote_tallies_annotation_delete AFTER DELETE ON annotations WHEN OLD.origin = 'human'
      BEGIN ${retally('SELECT OLD.utterance_id AS id')} END;
      CREATE TRIGGER vote_tallies_annotation_update
      AFTER UPDATE OF utterance_id, origin, annotator, label_id ON annotations
      WHEN NEW.origin = 'human' OR OLD.origin = 'human'
      BEGIN ${retally('SELECT NEW.utterance_id AS id UNION SELECT OLD.utterance_id')} END;

      CREATE TRIGGER vote_tallies_adjudication AFTER INSERT ON adjudications
      BEGIN ${retally('SELECT NEW.utterance_id AS id')} END;

      CREATE TRIGGER vote_tallies_roster_insert AFTER INSERT ON annotators
      BEGIN ${retally(votedBy('NEW.name'))} END;
      CREATE TRIGGER vote_tallies_roster_delete AFTER DELETE ON annotators
      BEGIN ${retally(votedBy('OLD.name'))} END;
      CREATE TRIGGER vote_tallies_roster_update AFTER UPDATE OF name, role ON annotators
      BEGIN ${retally(`${votedBy('NEW.name')} UNION ${votedBy('OLD.name')}`)} END;
    `);
  },
};

/** The utterances someone (named ignoring case, as the roster compares names) has a human annotation on. */
function votedBy(name: string): string {
  return `SELECT utterance_id AS id FROM annotations WHERE origin = 'human' AND annotator = ${name} COLLATE NOCASE`;
}

/**
 * Recounts the tallies of the utterances `ids` (a SELECT of a column `id`). Delete, then insert: an
 * INSERT OR REPLACE would take the conflict policy of the statement firing the trigger (an INSERT OR
 * IGNORE into the roster would leave stale tallies).
 */
function retally(ids: string): string {
  return `
    DELETE FROM vote_tallies WHERE utterance_id IN (${ids});
    INSERT INTO vote_tallies (utterance_id, labels, distinct_labels, top_label, adjudicated_label)
    SELECT s.id,
      (SELECT COUNT(*) FROM counted_votes v WHERE v.utterance_id = s.id),
      (SELECT COUNT(DISTINCT v.label_id) FROM counted_votes v WHERE v.utterance_id = s.id),
      (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(g.label_id) END
         FROM (SELECT v.label_id, COUNT(*) AS n FROM counted_votes v WHERE v.utterance_id = s.id GROUP BY v.label_id) g
         WHERE g.n = (SELECT COUNT(*) AS n FROM counted_votes v WHERE v.utterance_id = s.id
                      GROUP BY v.label_id ORDER BY n DESC LIMIT 1)),
      (SELECT d.label_id FROM adjudications d WHERE d.utterance_id = s.id ORDER BY d.id DESC LIMIT 1)
    FROM (SELECT DISTINCT id FROM (${ids})) s
    WHERE EXISTS (SELECT 1 FROM utterances u WHERE u.id = s.id);`;
}
