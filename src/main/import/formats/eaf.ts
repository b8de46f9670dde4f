/**
 * ELAN .eaf (EAF 2.x/3.0): time-aligned tiers become segments, transcripts, labels and speakers
 * (chosen by --tier or by tier name), a tier's ANNOTATOR is whose labels they are, time slots without
 * a value are interpolated between their aligned neighbours, reference annotations take their
 * parent's times, and the linked media is found by absolute URL, relative URL, then beside the file.
 * Parsed with fast-xml-parser (a real XML parser; well-formedness checked first, with its line).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import path from 'node:path';
import { StudioError } from '../../errors';
import {
  lineAt,
  readText,
  resolveMedia,
  segmentsFromTiers,
  type Corpus,
  type CorpusProblem,
  type ImportFormat,
  type ImportOptions,
  type Tier,
} from './corpus';

type XmlNode = Record<string, unknown>;

const ARRAYS = new Set([
  'MEDIA_DESCRIPTOR',
  'PROPERTY',
  'TIME_SLOT',
  'TIER',
  'ANNOTATION',
  'LINGUISTIC_TYPE',
  'LINKED_FILE_DESCRIPTOR',
]);

const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

export function parseXml(text: string): XmlNode {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    processEntities: true,
    captureMetaData: true,
    isArray: (name) => ARRAYS.has(name),
  });
  return parser.parse(text) as XmlNode;
}

const list = (v: unknown): XmlNode[] => (Array.isArray(v) ? (v as XmlNode[]) : v ? [v as XmlNode] : []);
const attr = (n: XmlNode, name: string): string | undefined => {
  const v = n[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};
const textOf = (v: unknown): string => {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return textOf((v as XmlNode)['#text']);
  return String(v);
};

export const eafFormat: ImportFormat = {
  name: 'eaf',
  detect: (file, head, isDirectory) =>
    !isDirectory && (path.extname(file).toLowerCase() === '.eaf' || /<ANNOTATION_DOCUMENT[\s>]/.test(head ?? '')),
  read(file: string, options: ImportOptions): Corpus {
    const name = path.basename(file);
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      throw new StudioError('not_found', `Cannot read ${file}: ${(err as Error).message}`);
    }
    const fail = (line: number | null, reason: string): Corpus => ({
      recordings: [],
      problems: [{ file: name, line, reason }],
      notes: [],
    });
    const valid = XMLValidator.validate(text);
    if (valid !== true) return fail(valid.err.line, `not well-formed XML: ${valid.err.msg}`);
    const doc = parseXml(text).ANNOTATION_DOCUMENT as XmlNode | undefined;
    if (!doc) return fail(null, 'not an ELAN file (no ANNOTATION_DOCUMENT)');
    const lineOf = (n: XmlNode) => {
      const meta = (n as Record<symbol, { startIndex?: number } | undefined>)[META];
      return meta?.startIndex === undefined ? null : lineAt(text, meta.startIndex);
    };
    const problems: CorpusProblem[] = [];
    const notes: string[] = [];
    const header = (doc.HEADER ?? {}) as XmlNode;
    const units = attr(header, 'TIME_UNITS') ?? 'milliseconds';
    if (units !== 'milliseconds')
      return fail(lineOf(header), `TIME_UNITS "${units}" is not supported (milliseconds only)`);

    // Time slots: aligned ones in ms; unaligned ones interpolated between aligned neighbours (in document order).
    const slotsRaw = list((doc.TIME_ORDER as XmlNode | undefined)?.TIME_SLOT);
    const slotIds = slotsRaw.map((s) => attr(s, 'TIME_SLOT_ID') ?? '');
    const values: (number | null)[] = slotsRaw.map((s) => {
      const v = attr(s, 'TIME_VALUE');
      if (v === undefined || v.trim() === '') return null;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0) {
        problems.push({
          file: name,
          line: lineOf(s),
          reason: `time slot ${attr(s, 'TIME_SLOT_ID')}: bad TIME_VALUE "${v.slice(0, 20)}"`,
        });
        return null;
      }
      return n;
    });
    let interpolated = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] !== null) continue;
      let before = i - 1;
      while (before >= 0 && values[before] === null) before--;
      let after = i + 1;
      while (after < values.length && values[after] === null) after++;
      if (before < 0 || after >= values.length) continue; // reported when used
      const t0 = values[before]!;
      const t1 = values[after]!;
      values[i] = t0 + ((t1 - t0) * (i - before)) / (after - before);
      interpolated++;
    }
    if (interpolated)
      notes.push(`${name}: ${interpolated} unaligned time slot(s) interpolated between their neighbours`);
    const slots = new Map<string, number | null>();
    slotIds.forEach((id, i) => slots.set(id, values[i]!));

    // Alignable annotations first (their ids and times), then reference annotations through their parents.
    const times = new Map<string, { start: number; end: number }>();
    const tiersRaw = list(doc.TIER);
    const pendingRefs: { tier: number; id: string; ref: string; value: string; line: number | null }[] = [];
    const tiers: Tier[] = tiersRaw.map((t) => ({
      name: attr(t, 'TIER_ID') ?? '',
      annotator: attr(t, 'ANNOTATOR')?.trim() || null,
      intervals: [],
      explicit: true,
    }));
    tiersRaw.forEach((t, ti) => {
      for (const a of list(t.ANNOTATION)) {
        const aligned = a.ALIGNABLE_ANNOTATION as XmlNode | undefined;
        const ref = a.REF_ANNOTATION as XmlNode | undefined;
        if (aligned) {
          const line = lineOf(aligned);
          const id = attr(aligned, 'ANNOTATION_ID') ?? '';
          const s1 = attr(aligned, 'TIME_SLOT_REF1') ?? '';
          const s2 = attr(aligned, 'TIME_SLOT_REF2') ?? '';
          const value = textOf(aligned.ANNOTATION_VALUE);
          if (!slots.has(s1) || !slots.has(s2)) {
            problems.push({
              file: name,
              line,
              reason: `annotation ${id}: time slot ${slots.has(s1) ? s2 : s1} does not exist`,
            });
            continue;
          }
          const start = slots.get(s1);
          const end = slots.get(s2);
          if (start === null || end === null || start === undefined || end === undefined) {
            problems.push({
              file: name,
              line,
              reason: `annotation ${id}: its time slots are unaligned and cannot be interpolated`,
            });
            continue;
          }
          if (times.has(id)) {
            problems.push({ file: name, line, reason: `annotation id ${id} is used twice: the second is left out` });
            continue;
          }
          times.set(id, { start: start / 1000, end: end / 1000 });
          tiers[ti]!.intervals.push({ start: start / 1000, end: end / 1000, text: value, line });
        } else if (ref) {
          pendingRefs.push({
            tier: ti,
            id: attr(ref, 'ANNOTATION_ID') ?? '',
            ref: attr(ref, 'ANNOTATION_REF') ?? '',
            value: textOf(ref.ANNOTATION_VALUE),
            line: lineOf(ref),
          });
        }
      }
    });
    // Reference chains: resolve until nothing changes (a ref to a ref takes the final parent's times).
    for (let progress = true; progress && pendingRefs.length;) {
      progress = false;
      for (let i = 0; i < pendingRefs.length; i++) {
        const r = pendingRefs[i]!;
        const parent = times.get(r.ref);
        if (!parent) continue;
        times.set(r.id, parent);
        tiers[r.tier]!.intervals.push({ ...parent, text: r.value, line: r.line });
        pendingRefs.splice(i--, 1);
        progress = true;
      }
    }
    for (const r of pendingRefs)
      problems.push({ file: name, line: r.line, reason: `reference annotation ${r.id}: parent ${r.ref} not found` });

    const result = segmentsFromTiers(tiers, file, options);
    problems.push(...result.problems);
    notes.push(...result.notes);

    // Media: the first audio descriptor (else the first), by absolute URL, relative URL, then beside the file.
    const descriptors = list(header.MEDIA_DESCRIPTOR);
    const chosen = descriptors.find((d) => (attr(d, 'MIME_TYPE') ?? '').startsWith('audio')) ?? descriptors[0];
    let media: string | null = null;
    if (!chosen) {
      problems.push({ file: name, line: lineOf(header), reason: 'no linked media (MEDIA_DESCRIPTOR): not imported' });
    } else {
      const url = attr(chosen, 'MEDIA_URL') ?? '';
      const relative = attr(chosen, 'RELATIVE_MEDIA_URL');
      media =
        resolveMedia(url, file, false) ??
        (relative ? resolveMedia(relative, file, false) : null) ??
        resolveMedia(url || relative || '', file, true);
      if (!media)
        problems.push({
          file: name,
          line: lineOf(chosen),
          reason: `linked media not found: ${url || relative} (looked at the path, the relative URL and beside the file)`,
        });
    }
    return { recordings: media ? [{ media, segments: result.segments }] : [], problems, notes, tiers: result.tiers };
  },
};
