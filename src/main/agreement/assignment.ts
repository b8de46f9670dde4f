/**
 * Who is asked to label an utterance (issue 11, assignment). Pure and deterministic: an utterance's
 * annotators depend only on its id, the roster's shares and K, never on other utterances, so adding
 * utterances never moves earlier ones, and every machine computes the same queues.
 *
 * - An annotator with share 1 (the default) is assigned every utterance.
 * - The open places, K minus the number of share-1 annotators, go to annotators with a smaller share,
 *   drawn per utterance by weighted rendezvous (highest random weight) hashing: each annotator's
 *   score for the utterance is -share / ln(h), h a hash of (utterance id, name) in (0, 1); the highest
 *   scores win. With one open place an annotator wins with probability share / (the partial shares'
 *   sum), exactly their share when the shares add up to K; adding or removing an annotator moves only
 *   the utterances they win or held.
 * - When the share-1 annotators alone are K or more, each one below 1 is assigned an utterance when
 *   its hash falls below their share (they help with about that part, while labels are still needed).
 * - The calibration share: utterances whose own hash falls below it go to every annotator.
 */

export interface Assignee {
  name: string;
  /** 0 < share <= 1. */
  share: number;
}

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser: a well-mixed 32-bit hash. */
function hash32(text: string): number {
  return finalise(fnv1a(0x811c9dc5, text));
}

/** FNV-1a's state after `text`, from state `h` (so a common prefix is hashed once). */
function fnv1a(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** murmur3's finaliser, as an unsigned 32-bit number. */
function finalise(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A hash of the parts as a number in (0, 1). */
export function unitHash(...parts: (string | number)[]): number {
  return (hash32(parts.join('\u0000')) + 0.5) / 4294967296;
}

/** Whether an utterance is in the calibration set (labelled by every annotator). */
export const isCalibration = (utteranceId: number, calibrationShare: number): boolean =>
  calibrationShare > 0 && unitHash('calibration', utteranceId) < calibrationShare;

/** The names of the annotators an utterance is assigned to (`annotators`: role annotator only). */
export function assignees(
  utteranceId: number,
  annotators: readonly Assignee[],
  labelsPerUtterance: number,
  calibrationShare = 0,
): string[] {
  if (isCalibration(utteranceId, calibrationShare)) return annotators.map((a) => a.name);
  const full = annotators.filter((a) => a.share >= 1);
  const partial = annotators.filter((a) => a.share < 1);
  const open = labelsPerUtterance - full.length;
  if (open <= 0)
    return [...full, ...partial.filter((a) => unitHash('extra', utteranceId, a.name) < a.share)].map((a) => a.name);
  const ranked = partial
    .map((a) => ({ name: a.name, score: -a.share / Math.log(unitHash(utteranceId, a.name)) }))
    .sort((x, y) => y.score - x.score || (x.name < y.name ? -1 : 1));
  return [...full.map((a) => a.name), ...ranked.slice(0, open).map((a) => a.name)];
}

/** `unitHash(utteranceId, name)` from the FNV-1a state of `${utteranceId}\u0000` (no string built per name). */
const unitHashAfter = (prefix: number, name: string): number => (finalise(fnv1a(prefix, name)) + 0.5) / 4294967296;

/**
 * Whether `name` is among `assignees(utteranceId, annotators, labelsPerUtterance, calibrationShare)`,
 * without building the list: the same draw, counting only the annotators that outrank `name`. The
 * `needs_my_label` filter asks this of every unlabelled utterance still needing labels.
 */
export function isAssigned(
  utteranceId: number,
  name: string,
  annotators: readonly Assignee[],
  labelsPerUtterance: number,
  calibrationShare = 0,
): boolean {
  const me = annotators.find((a) => a.name === name);
  if (!me) return false;
  if (isCalibration(utteranceId, calibrationShare) || me.share >= 1) return true;
  let full = 0;
  for (const a of annotators) if (a.share >= 1) full++;
  const open = labelsPerUtterance - full;
  if (open <= 0) return unitHash('extra', utteranceId, name) < me.share;
  const prefix = fnv1a(0x811c9dc5, `${utteranceId}\u0000`);
  const mine = -me.share / Math.log(unitHashAfter(prefix, me.name));
  let ahead = 0;
  for (const a of annotators) {
    if (a.share >= 1 || a === me) continue;
    const score = -a.share / Math.log(unitHashAfter(prefix, a.name));
    if (score > mine || (score === mine && a.name < name)) ahead++;
  }
  return ahead < open;
}

/** Whether the shares can give every utterance K labels (their sum is at least K; a rounding slack). */
export const sharesCover = (annotators: readonly Assignee[], labelsPerUtterance: number): boolean =>
  shareSum(annotators) >= labelsPerUtterance - 1e-6;

/** The shares' sum, rounded for messages. */
export const shareSum = (annotators: readonly Assignee[]): number =>
  Math.round(annotators.reduce((s, a) => s + a.share, 0) * 1e6) / 1e6;
