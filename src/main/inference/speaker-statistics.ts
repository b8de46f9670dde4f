/**
 * Speaker statistics for a speaker-normalised model (model.json `speaker_normalisation`; the trainer's
 * counterpart is training/wavfusion/speakers.py): per speaker, the mean and population standard
 * deviation of statistics.onnx's output over that speaker's utterances. No labels are read, only which
 * utterances share a speaker.
 */

/** [2 × dimension]: the mean, then the standard deviation. */
export type SpeakerStatistics = Float32Array;

/**
 * Groups utterance statistics by speaker; speakers with fewer than `minUtterances` utterances get no
 * entry (the model then uses its training set's statistics for them, as in training).
 */
export function speakerStatistics(
  utterances: readonly { speaker: string; statistics: Float32Array }[],
  dimension: number,
  minUtterances: number,
): Map<string, SpeakerStatistics> {
  const groups = new Map<string, Float32Array[]>();
  for (const u of utterances) {
    if (u.statistics.length !== dimension)
      throw new Error(`statistics.onnx gave ${u.statistics.length} values, model.json says ${dimension}`);
    const g = groups.get(u.speaker);
    if (g) g.push(u.statistics);
    else groups.set(u.speaker, [u.statistics]);
  }
  const out = new Map<string, SpeakerStatistics>();
  for (const [speaker, rows] of groups) {
    if (rows.length < minUtterances) continue;
    const mean = new Float64Array(dimension);
    for (const r of rows) for (let k = 0; k < dimension; k++) mean[k]! += r[k]!;
    for (let k = 0; k < dimension; k++) mean[k]! /= rows.length;
    const variance = new Float64Array(dimension);
    for (const r of rows) {
      for (let k = 0; k < dimension; k++) {
        const d = r[k]! - mean[k]!;
        variance[k]! += d * d;
      }
    }
    const pair = new Float32Array(2 * dimension);
    for (let k = 0; k < dimension; k++) {
      pair[k] = mean[k]!;
      pair[dimension + k] = Math.sqrt(variance[k]! / rows.length);
    }
    out.set(speaker, pair);
  }
  return out;
}
