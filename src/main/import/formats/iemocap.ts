/**
 * The IEMOCAP release layout: `SessionN/dialog/EmoEvaluation/<dialog>.txt` (one block per utterance:
 * `[start - end]\tid\tcategory\t[V, A, D]`, then `C-E1:\tNeutral state;\t()` per evaluator and
 * `A-E1:\tval 3; act 2; dom 3;\t()` per dimensional evaluation), `dialog/wav/<dialog>.wav` (the whole
 * dialog), `dialog/transcriptions/<dialog>.txt` (`id [start-end]: text`) and
 * `sentences/wav/<dialog>/<id>.wav` (one file per utterance). Read from the release folder, a session
 * folder or one EmoEvaluation file.
 *
 * Each utterance: a segment of the dialog wav (or its sentence wav, whole, when present), the
 * transcript, the speaker (`Ses01F`), the consensus category and V/A/D (IEMOCAP's 1–5 valence,
 * activation, dominance → valence, arousal, dominance) as the corpus's imported label, and each
 * evaluator's category (with their own V/A/D when they gave both) as that annotator's annotation.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  readText,
  type Corpus,
  type CorpusAnnotation,
  type CorpusProblem,
  type CorpusRecording,
  type ImportFormat,
  type ImportOptions,
} from './corpus';

/** IEMOCAP's category codes and our label names for them; `xxx` is "no agreement". */
const CODES: Record<string, string> = {
  neu: 'neutral',
  hap: 'happy',
  exc: 'excited',
  ang: 'angry',
  sad: 'sad',
  fru: 'frustrated',
  sur: 'surprised',
  fea: 'fearful',
  dis: 'disgusted',
  oth: 'other',
};
/** The 4-class convention. */
const FOUR: Record<string, string> = { neu: 'neutral', hap: 'happy', exc: 'happy', ang: 'angry', sad: 'sad' };
/** The evaluators' words for the categories. */
const WORDS: Record<string, string> = {
  'neutral state': 'neu',
  neutral: 'neu',
  happiness: 'hap',
  happy: 'hap',
  excited: 'exc',
  excitement: 'exc',
  anger: 'ang',
  angry: 'ang',
  sadness: 'sad',
  sad: 'sad',
  frustration: 'fru',
  frustrated: 'fru',
  surprise: 'sur',
  surprised: 'sur',
  fear: 'fea',
  disgust: 'dis',
  other: 'oth',
};

const NUM = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const TURN = new RegExp(
  String.raw`^\[\s*${NUM}\s*-\s*${NUM}\s*\]\s+(\S+)\s+(\S+)\s+\[\s*${NUM}\s*,\s*${NUM}\s*,\s*${NUM}\s*\]\s*$`,
);
const CATEGORICAL = /^C-([A-Za-z]+\d*)\s*:\s*([^(]*?)\s*(?:\((.*)\))?\s*$/;
const DIMENSIONAL = new RegExp(
  String.raw`^A-([A-Za-z]+\d*)\s*:\s*val\s*${NUM}\s*;\s*act\s*${NUM}\s*;\s*dom\s*${NUM}\s*;?\s*(?:\((.*)\))?\s*$`,
  'i',
);
const TRANSCRIPT = new RegExp(String.raw`^(\S+)\s+\[\s*${NUM}\s*-\s*${NUM}\s*\]\s*:\s?(.*)$`);

const isDir = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string) => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};
const sessionsIn = (dir: string) =>
  isDir(path.join(dir, 'dialog', 'EmoEvaluation'))
    ? [dir]
    : safeList(dir)
        .filter((n) => /^session\d+$/i.test(n))
        .map((n) => path.join(dir, n))
        .filter((d) => isDir(path.join(d, 'dialog', 'EmoEvaluation')));

function safeList(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  } catch {
    return [];
  }
}

/** A session's annotator name: evaluators E1…E6 are the same people across sessions, F1/M1 are its actors. */
const annotatorName = (id: string, session: string) =>
  /^E\d+$/i.test(id) ? `iemocap-${id.toUpperCase()}` : `iemocap-${session}-${id.toUpperCase()}`;

export const iemocapFormat: ImportFormat = {
  name: 'iemocap',
  detect(file, head, isDirectory) {
    if (isDirectory) return sessionsIn(file).length > 0;
    if (!head || path.extname(file).toLowerCase() !== '.txt') return false;
    return /^\s*\[\s*[\d.]+\s*-\s*[\d.]+\s*\]\s+Ses\d\d[FM]_\S+\s+\w{3}\s+\[/m.test(head);
  },
  read(file: string, options: ImportOptions): Corpus {
    const problems: CorpusProblem[] = [];
    const notes: string[] = [];
    // Which EmoEvaluation files, and the folder problems are named relative to.
    let root: string;
    let evaluations: string[];
    if (isDir(file)) {
      root = file;
      evaluations = sessionsIn(file).flatMap((s) => {
        const dir = path.join(s, 'dialog', 'EmoEvaluation');
        // Only the dialog files: the release's Categorical/, Attribute/ and Self-evaluation/ repeat them.
        return safeList(dir)
          .filter((n) => n.toLowerCase().endsWith('.txt') && !n.startsWith('.') && isFile(path.join(dir, n)))
          .map((n) => path.join(dir, n));
      });
    } else {
      root = path.dirname(file);
      evaluations = [file];
    }
    const rel = (f: string) => path.relative(root, f) || path.basename(f);
    const recordings = new Map<string, CorpusRecording>();
    const counts = new Map<string, number>();
    let left = 0;
    let several = 0;
    let utterances = 0;
    let fromSentences = 0;
    for (const evaluation of evaluations) {
      const dialog = path.basename(evaluation, path.extname(evaluation));
      const dialogDir = path.dirname(path.dirname(evaluation)); // SessionN/dialog
      const sessionDir = path.dirname(dialogDir);
      const session = /^(Ses\d\d)/i.exec(dialog)?.[1] ?? path.basename(sessionDir);
      const transcripts = readTranscripts(path.join(dialogDir, 'transcriptions', `${dialog}.txt`), rel, problems);
      const dialogWav = path.join(dialogDir, 'wav', `${dialog}.wav`);
      const lines = readText(evaluation).split(/\r\n|\r|\n/);
      interface Turn {
        line: number;
        start: number;
        end: number;
        id: string;
        code: string;
        vad: [number, number, number];
        evaluators: Map<string, CorpusAnnotation>;
        ratings: Map<string, [number, number, number]>;
      }
      const turns: Turn[] = [];
      let current: Turn | null = null;
      lines.forEach((raw, i) => {
        const line = raw.replace(/^\uFEFF/, '').trim();
        const where = { file: rel(evaluation), line: i + 1 };
        if (!line || line.startsWith('%')) return;
        let m = TURN.exec(line);
        if (m) {
          const [start, end] = [Number(m[1]), Number(m[2])];
          const vad = [Number(m[5]), Number(m[6]), Number(m[7])] as [number, number, number];
          current = null;
          if (!(end > start)) return problems.push({ ...where, reason: `utterance ${m[3]} ends before it starts` });
          if (!(m[4]!.toLowerCase() in CODES) && m[4]!.toLowerCase() !== 'xxx')
            return problems.push({ ...where, reason: `utterance ${m[3]}: unknown category "${m[4]}"` });
          current = {
            line: i + 1,
            start,
            end,
            id: m[3]!,
            code: m[4]!.toLowerCase(),
            vad,
            evaluators: new Map(),
            ratings: new Map(),
          };
          turns.push(current);
          return;
        }
        const turn = current as Turn | null;
        m = CATEGORICAL.exec(line);
        if (m) {
          if (!turn) return problems.push({ ...where, reason: 'an evaluation before any utterance line' });
          const words = m[2]!
            .split(';')
            .map((w) => w.trim())
            .filter(Boolean);
          // "Other" may carry the evaluator's own word: "Other:curious".
          const codes = words.map((w) => WORDS[w.toLowerCase()] ?? WORDS[w.toLowerCase().split(':')[0]!.trim()]);
          const unknown = words.filter((_, k) => !codes[k]);
          if (words.length === 0 || unknown.length)
            return problems.push({
              ...where,
              reason: words.length
                ? `${turn.id}: unknown category "${unknown[0]}"`
                : `${turn.id}: evaluation without a category`,
            });
          if (codes.length > 1) several++;
          turn.evaluators.set(m[1]!, { annotator: annotatorName(m[1]!, session), label: codes[0]! });
          return;
        }
        m = DIMENSIONAL.exec(line);
        if (m) {
          if (!turn) return problems.push({ ...where, reason: 'an evaluation before any utterance line' });
          turn.ratings.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4])]);
          return;
        }
        problems.push({ ...where, reason: `not an IEMOCAP evaluation line: "${line.slice(0, 60)}"` });
      });
      for (const turn of turns) {
        const where = { file: rel(evaluation), line: turn.line };
        const consensus = mapCode(turn.code, options);
        if (consensus === undefined) {
          left++;
          continue;
        }
        const sentence = path.join(sessionDir, 'sentences', 'wav', dialog, `${turn.id}.wav`);
        const media = isFile(sentence) ? sentence : isFile(dialogWav) ? dialogWav : null;
        if (!media) {
          problems.push({
            ...where,
            reason: `${turn.id}: no audio (neither ${rel(sentence)} nor ${rel(dialogWav)})`,
          });
          continue;
        }
        if (media === sentence) fromSentences++;
        const annotations: CorpusAnnotation[] = [];
        const [valence, arousal, dominance] = turn.vad.map((v) => (v >= 1 && v <= 5 ? v : null));
        if (turn.vad.some((v) => !(v >= 1 && v <= 5)))
          problems.push({ ...where, reason: `${turn.id}: V/A/D [${turn.vad.join(', ')}] outside 1–5, left out` });
        annotations.push({ annotator: null, label: consensus, valence, arousal, dominance });
        for (const [id, a] of turn.evaluators) {
          const label = mapCode(a.label!, options);
          if (label === undefined || label === null) continue;
          const r = turn.ratings.get(id);
          const ok = r && r.every((v) => v >= 1 && v <= 5);
          annotations.push({
            ...a,
            label,
            ...(ok ? { valence: r[0], arousal: r[1], dominance: r[2] } : {}),
          });
        }
        if (consensus) counts.set(consensus, (counts.get(consensus) ?? 0) + 1);
        const recording = recordings.get(media) ?? { media, segments: [] };
        recordings.set(media, recording);
        const gender = /_([FM])\d+$/i.exec(turn.id)?.[1]?.toUpperCase();
        recording.segments.push({
          start: media === sentence ? null : turn.start,
          end: media === sentence ? null : turn.end,
          text: transcripts.get(turn.id) ?? '',
          speaker: gender ? `${session}${gender}` : null,
          annotations,
          predictions: [],
          origin: `${rel(evaluation)}:${turn.line}`,
        });
        utterances++;
      }
    }
    if (evaluations.length === 0) problems.push({ file: rel(file), line: null, reason: 'no EmoEvaluation files' });
    notes.push(`IEMOCAP: ${evaluations.length} dialog(s), ${utterances} utterance(s)`, mappingNote(options, left));
    if (utterances)
      notes.push(
        `IEMOCAP labels: ${[...counts]
          .sort((a, b) => b[1] - a[1])
          .map(([l, n]) => `${l} ${n}`)
          .join(', ')}`,
      );
    if (fromSentences)
      notes.push(`IEMOCAP: ${fromSentences} utterance(s) from sentences/wav (whole files), the rest from dialog/wav`);
    if (several) notes.push(`IEMOCAP: ${several} evaluation(s) named several categories: the first is kept`);
    return { recordings: [...recordings.values()], problems, notes };
  },
};

/** A category code's label: null for no agreement (kept, unlabelled), undefined for left out. */
function mapCode(code: string, options: ImportOptions): string | null | undefined {
  if (!options.fourClass) return CODES[code] ?? null;
  if (FOUR[code]) return FOUR[code];
  if (options.fourClass === 'drop') return undefined;
  return CODES[code] ?? null;
}

function mappingNote(options: ImportOptions, left: number): string {
  if (!options.fourClass)
    return `IEMOCAP categories (all 10): ${Object.entries(CODES)
      .map(([c, l]) => `${c}→${l}`)
      .join(', ')}; xxx (no agreement): no consensus label`;
  const mapped = Object.entries(FOUR)
    .map(([c, l]) => `${c}→${l}`)
    .join(', ');
  return options.fourClass === 'drop'
    ? `IEMOCAP 4-class mapping: ${mapped}; fru, sur, fea, dis, oth, xxx left out (${left} utterance(s))`
    : `IEMOCAP 4-class mapping: ${mapped}; fru, sur, fea, dis, oth kept under their own names, xxx without a consensus label`;
}

/** `Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.` per line; other lines are reported. */
function readTranscripts(file: string, rel: (f: string) => string, problems: CorpusProblem[]): Map<string, string> {
  const out = new Map<string, string>();
  if (!isFile(file)) return out;
  readText(file)
    .split(/\r\n|\r|\n/)
    .forEach((raw, i) => {
      const line = raw.replace(/^\uFEFF/, '').trim();
      if (!line) return;
      const m = TRANSCRIPT.exec(line);
      // The release's transcripts also hold untimed turns ("M: [BREATHING]"), which belong to no utterance.
      if (!m) {
        if (!/^[A-Za-z0-9_]+\s*:/.test(line))
          problems.push({ file: rel(file), line: i + 1, reason: `not a transcript line: "${line.slice(0, 60)}"` });
        return;
      }
      out.set(m[1]!, m[4]!.trim());
    });
  return out;
}
