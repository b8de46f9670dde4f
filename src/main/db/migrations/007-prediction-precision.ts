import type { Migration } from './types';

/**
 * The precision of the graph that produced each prediction: 'fp32' (model.onnx) or 'int8'
 * (model.int8.onnx, python -m wavfusion quantize). Rows from before this migration came from fp32.
 */
export const migration007: Migration = {
  version: 7,
  name: 'prediction precision',
  up(db) {
    db.exec(`
      ALTER TABLE predictions ADD COLUMN precision TEXT NOT NULL DEFAULT 'fp32' CHECK (precision IN ('fp32', 'int8'));
    `);
  },
};
