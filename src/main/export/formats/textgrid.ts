/**
 * Praat TextGrid export: one long-format TextGrid (UTF-8) per recording, named after it. Tiers:
 * `transcript` (each utterance's interval with its transcript), `emotion:NAME` per annotator (the
 * file's own imported labels: `emotion`), then, for an annotator who entered them, `valence:NAME`,
 * `arousal:NAME`, `dominance:NAME` (1–5), `note:NAME`, `unsure:NAME` ("unsure") and
 * `annotated_at:NAME` (each annotation's time, ISO 8601) over the same intervals, `speaker`. Utterances that overlap go to numbered extra
 * tiers (`transcript 2`, `emotion 2:NAME`…), since an interval tier cannot hold overlaps. The
 * recording's audio is copied beside its TextGrid under the same name, as Praat expects them.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  annotatorsOf,
  extraText,
  extraTiersOf,
  labelsAnything,
  layers,
  uniqueStem,
  type CorpusExportFormat,
  type ExportRecording,
} from './project-corpus';

interface Interval {
  xmin: number;
  xmax: number;
  text: string;
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
const num = (n: number) => String(n);

/** Fills the gaps between a tier's intervals with empty ones, from 0 to xmax (Praat tiers tile). */
function tile(intervals: Interval[], xmax: number): Interval[] {
  const out: Interval[] = [];
  let at = 0;
  for (const iv of [...intervals].sort((a, b) => a.xmin - b.xmin)) {
    if (iv.xmin > at) out.push({ xmin: at, xmax: iv.xmin, text: '' });
    out.push(iv);
    at = iv.xmax;
  }
  if (xmax > at || out.length === 0) out.push({ xmin: at, xmax: Math.max(xmax, at), text: '' });
  return out;
}

export function textGridText(tiers: { name: string; intervals: Interval[] }[], xmax: number): string {
  const lines = [
    'File type = "ooTextFile"',
    'Object class = "TextGrid"',
    '',
    'xmin = 0 ',
    `xmax = ${num(xmax)} `,
    tiers.length ? 'tiers? <exists> ' : 'tiers? <absent> ',
  ];
  if (tiers.length) {
    lines.push(`size = ${tiers.length} `, 'item []: ');
    tiers.forEach((tier, t) => {
      const intervals = tile(tier.intervals, xmax);
      lines.push(
        `    item [${t + 1}]:`,
        '        class = "IntervalTier" ',
        `        name = ${quote(tier.name)} `,
        '        xmin = 0 ',
        `        xmax = ${num(xmax)} `,
        `        intervals: size = ${intervals.length} `,
      );
      intervals.forEach((iv, i) => {
        lines.push(
          `        intervals [${i + 1}]:`,
          `            xmin = ${num(iv.xmin)} `,
          `            xmax = ${num(iv.xmax)} `,
          `            text = ${quote(iv.text)} `,
        );
      });
    });
  }
  return lines.join('\n') + '\n';
}

export function recordingTextGrid(recording: ExportRecording): string {
  const xmax = Math.max(recording.durationS, ...recording.segments.map((s) => s.end));
  const annotators = annotatorsOf(recording);
  const tiers: { name: string; intervals: Interval[] }[] = [];
  layers(recording.segments).forEach((layer, k) => {
    const suffix = k === 0 ? '' : ` ${k + 1}`;
    tiers.push({
      name: `transcript${suffix}`,
      intervals: layer.map((s) => ({ xmin: s.start, xmax: s.end, text: s.text })),
    });
    for (const who of annotators) {
      const whose = who === null ? '' : `:${who}`;
      if (labelsAnything(recording, who))
        tiers.push({
          name: `emotion${suffix}${whose}`,
          intervals: layer.flatMap((s) => {
            const a = s.annotations.find((x) => x.annotator === who && x.label);
            return a ? [{ xmin: s.start, xmax: s.end, text: a.label! }] : [];
          }),
        });
      for (const extra of extraTiersOf(recording, who))
        tiers.push({
          name: `${extra}${suffix}${whose}`,
          intervals: layer.flatMap((s) => {
            const a = s.annotations.find((x) => x.annotator === who);
            const text = !a ? null : extra === 'annotated_at' ? (a.annotatedAt ?? null) : extraText(a, extra);
            return text === null ? [] : [{ xmin: s.start, xmax: s.end, text }];
          }),
        });
    }
    if (layer.some((s) => s.speaker))
      tiers.push({
        name: `speaker${suffix}`,
        intervals: layer.flatMap((s) => (s.speaker ? [{ xmin: s.start, xmax: s.end, text: s.speaker }] : [])),
      });
  });
  return textGridText(tiers, xmax);
}

export const textgridExport: CorpusExportFormat = {
  name: 'textgrid',
  async write(corpus, write) {
    const taken = new Set<string>();
    const warnings: string[] = [];
    for (const rec of corpus.recordings) {
      const stem = uniqueStem(rec.fileName, taken);
      const bare = rec.segments.filter((s) => !s.text && s.annotations.length === 0).length;
      if (bare)
        warnings.push(`${rec.fileName}: ${bare} utterance(s) with neither transcript nor label are empty intervals`);
      await write(`${stem}.TextGrid`, recordingTextGrid(rec));
      let audio: Buffer;
      try {
        audio = await fs.readFile(rec.media);
      } catch (err) {
        warnings.push(`${rec.fileName}: audio not copied beside its TextGrid (${(err as Error).message})`);
        continue;
      }
      await write(`${stem}${path.extname(rec.fileName).toLowerCase()}`, audio);
    }
    return warnings;
  },
};
