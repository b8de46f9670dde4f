/**
 * ELAN .eaf export (EAF 3.0): one file per recording, its media linked by absolute file URL and by a
 * URL relative to the export folder. Tiers: `transcript` (every utterance, its transcript), one
 * `emotion` tier per annotator (ANNOTATOR set; the file's own imported labels in `emotion`), then,
 * for an annotator who entered them, time-aligned tiers `valence (NAME)`, `arousal (NAME)`,
 * `dominance (NAME)` (1–5), `note (NAME)`, `unsure (NAME)` and `annotated_at (NAME)` (ISO 8601) over
 * the same utterances, ANNOTATOR set, `speaker`. Overlapping utterances go to numbered extra tiers.
 * Times are whole milliseconds, as EAF requires. Written element by element in the schema's order,
 * every text escaped.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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

const escapeXml = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    // XML 1.0 forbids most control characters even escaped.
    // eslint-disable-next-line no-control-regex -- matching them is the point
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const attrs = (a: Record<string, string | undefined>) =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(v!)}"`)
    .join('');

const MIME: Record<string, string> = {
  '.wav': 'audio/x-wav',
  '.mp3': 'audio/mpeg',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
};

export function recordingEaf(rec: ExportRecording, exportFile: string, date: string): string {
  const slots: number[] = [];
  const slotOf = (seconds: number) => {
    slots.push(Math.round(seconds * 1000));
    return `ts${slots.length}`;
  };
  let annotationId = 0;
  const tiers: { id: string; annotator?: string; annotations: string[] }[] = [];
  const annotators = annotatorsOf(rec);
  layers(rec.segments).forEach((layer, k) => {
    const suffix = k === 0 ? '' : ` ${k + 1}`;
    const tier = (id: string, annotator: string | undefined, pick: (s: (typeof layer)[number]) => string | null) => {
      const annotations: string[] = [];
      for (const s of layer) {
        const value = pick(s);
        if (value === null) continue;
        const id = `a${++annotationId}`;
        annotations.push(
          `      <ANNOTATION>\n        <ALIGNABLE_ANNOTATION${attrs({ ANNOTATION_ID: id, TIME_SLOT_REF1: slotOf(s.start), TIME_SLOT_REF2: slotOf(s.end) })}>\n` +
            `          <ANNOTATION_VALUE>${escapeXml(value)}</ANNOTATION_VALUE>\n        </ALIGNABLE_ANNOTATION>\n      </ANNOTATION>`,
        );
      }
      tiers.push({ id, annotator, annotations });
    };
    tier(`transcript${suffix}`, undefined, (s) => s.text);
    for (const who of annotators) {
      const whose = who === null ? '' : ` (${who})`;
      if (labelsAnything(rec, who))
        tier(`emotion${suffix}${whose}`, who ?? undefined, (s) => {
          const a = s.annotations.find((x) => x.annotator === who && x.label);
          return a ? a.label! : null;
        });
      for (const extra of extraTiersOf(rec, who))
        tier(`${extra}${suffix}${whose}`, who ?? undefined, (s) => {
          const a = s.annotations.find((x) => x.annotator === who);
          return !a ? null : extra === 'annotated_at' ? (a.annotatedAt ?? null) : extraText(a, extra);
        });
    }
    if (layer.some((s) => s.speaker)) tier(`speaker${suffix}`, undefined, (s) => s.speaker);
  });
  // Time slots must be in time order in TIME_ORDER: renumber by time (stable for equal times).
  const order = slots.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t || a.i - b.i);
  const rename = new Map(order.map((o, n) => [`ts${o.i + 1}`, `ts${n + 1}`]));
  const renamed = (s: string) =>
    s.replace(/TIME_SLOT_REF([12])="(ts\d+)"/g, (_, k, id) => `TIME_SLOT_REF${k}="${rename.get(id)}"`);
  const ext = path.extname(rec.media).toLowerCase();
  const relative = path.relative(path.dirname(exportFile), rec.media).split(path.sep).join('/');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ANNOTATION_DOCUMENT${attrs({ AUTHOR: 'WavFusion Studio', DATE: date, FORMAT: '3.0', VERSION: '3.0', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', 'xsi:noNamespaceSchemaLocation': 'http://www.mpi.nl/tools/elan/EAFv3.0.xsd' })}>`,
    `  <HEADER${attrs({ MEDIA_FILE: '', TIME_UNITS: 'milliseconds' })}>`,
    `    <MEDIA_DESCRIPTOR${attrs({ MEDIA_URL: pathToFileURL(rec.media).href, MIME_TYPE: MIME[ext] ?? 'audio/*', RELATIVE_MEDIA_URL: relative.startsWith('.') ? relative : `./${relative}` })}/>`,
    `    <PROPERTY NAME="lastUsedAnnotationId">${annotationId}</PROPERTY>`,
    '  </HEADER>',
    slots.length ? '  <TIME_ORDER>' : '  <TIME_ORDER/>',
    ...order.map((o, n) => `    <TIME_SLOT${attrs({ TIME_SLOT_ID: `ts${n + 1}`, TIME_VALUE: String(o.t) })}/>`),
    ...(slots.length ? ['  </TIME_ORDER>'] : []),
    ...tiers.map((t) =>
      t.annotations.length
        ? `  <TIER${attrs({ TIER_ID: t.id, LINGUISTIC_TYPE_REF: 'default-lt', ANNOTATOR: t.annotator })}>\n${t.annotations.map(renamed).join('\n')}\n  </TIER>`
        : `  <TIER${attrs({ TIER_ID: t.id, LINGUISTIC_TYPE_REF: 'default-lt', ANNOTATOR: t.annotator })}/>`,
    ),
    `  <LINGUISTIC_TYPE${attrs({ LINGUISTIC_TYPE_ID: 'default-lt', TIME_ALIGNABLE: 'true', GRAPHIC_REFERENCES: 'false' })}/>`,
    '  <CONSTRAINT DESCRIPTION="Time subdivision of parent annotation\'s time interval, no time gaps allowed within this interval" STEREOTYPE="Time_Subdivision"/>',
    '  <CONSTRAINT DESCRIPTION="Symbolic subdivision of a parent annotation. Annotations refering to the same parent are ordered" STEREOTYPE="Symbolic_Subdivision"/>',
    '  <CONSTRAINT DESCRIPTION="1-1 association with a parent annotation" STEREOTYPE="Symbolic_Association"/>',
    '  <CONSTRAINT DESCRIPTION="Time alignable annotations within the parent annotation\'s time interval, gaps are allowed" STEREOTYPE="Included_In"/>',
    '</ANNOTATION_DOCUMENT>',
    '',
  ].join('\n');
}

export const eafExport: CorpusExportFormat = {
  name: 'eaf',
  async write(corpus, write, target) {
    const taken = new Set<string>();
    const date = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const rec of corpus.recordings) {
      const file = `${uniqueStem(rec.fileName, taken)}.eaf`;
      await write(file, recordingEaf(rec, path.join(target, file), date));
    }
    return [];
  },
};
