import type { Migration } from './types';

/**
 * The list's "confidence below x" filter counts its matches from an index: the predictions by model and
 * confidence, with the utterance, so the count reads index entries only instead of every prediction row
 * (probabilities, embedding) of the model: 0.4–1 s at 100,000 utterances, docs/benchmarks.md.
 */
export const migration015: Migration = {
  version: 15,
  name: 'predictions by confidence',
  up(db) {
    db.exec('CREATE INDEX predictions_by_confidence ON predictions(model_id, confidence, utterance_id);');
  },
};
