import type { Label, LabelExample } from '../../shared/contract';
import { StudioError } from '../errors';
import type { Db } from './open-database';

const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const CONTROL = /\p{Cc}/u;

/**
 * A label name as stored: trimmed, NFC (so "é" typed two ways is one name). Refused, with why:
 * control characters (NUL, newlines) and bidirectional controls, which can make a name display as
 * another one.
 */
export function normaliseLabelName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  const codepoint = (ch: string) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const control = CONTROL.exec(name);
  if (control)
    throw new StudioError(
      'invalid_request',
      `A label name cannot contain control characters (${codepoint(control[0])})`,
    );
  const bidi = BIDI_CONTROLS.exec(name);
  if (bidi) {
    throw new StudioError(
      'invalid_request',
      `A label name cannot contain bidirectional control characters (${codepoint(bidi[0])}): they can make it display as another name`,
    );
  }
  if (!name) throw new StudioError('invalid_request', 'A label name cannot be empty');
  return name;
}

/** The key names are unique by: Unicode case folding (ß = ss, Σ = σ = ς, É = é), not ASCII-only NOCASE. */
export function foldLabelName(name: string): string {
  return name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
}

interface LabelRecord {
  id: number;
  name: string;
  color: string;
  hotkey: string | null;
  position: number;
  definition: string;
}

const COLUMNS = 'id, name, color, hotkey, position, definition';

/** An example's title: the recording's file name, where the segment starts, and the transcript's start. */
function exampleTitle(fileName: string, start: number, transcript: string): string {
  const text = transcript.trim();
  const quoted = text ? ` "${text.length > 48 ? `${text.slice(0, 47)}…` : text}"` : '';
  return `${fileName} @ ${start.toFixed(1)} s${quoted}`;
}

export class LabelsRepository {
  constructor(private readonly db: Db) {}

  list(): Label[] {
    const examples = this.examples();
    return this.db
      .prepare<[], LabelRecord>(`SELECT ${COLUMNS} FROM labels ORDER BY position, id`)
      .all()
      .map((r) => ({ ...r, examples: examples.get(r.id) ?? [] }));
  }

  byName(name: string): Label | undefined {
    const r = this.db.prepare<[string], LabelRecord>(`SELECT ${COLUMNS} FROM labels WHERE name = ?`).get(name);
    return r && this.withExamples(r);
  }

  /** The label whose name is the same as `name` up to Unicode case folding. */
  byFoldedName(name: string): Label | undefined {
    const key = foldLabelName(name);
    return this.list().find((l) => foldLabelName(l.name) === key);
  }

  byId(id: number): Label | undefined {
    const r = this.db.prepare<[number], LabelRecord>(`SELECT ${COLUMNS} FROM labels WHERE id = ?`).get(id);
    return r && this.withExamples(r);
  }

  private withExamples(r: LabelRecord): Label {
    return { ...r, examples: this.examples(r.id).get(r.id) ?? [] };
  }

  /** Each label's example utterances in order (of one label, or all); removed segments are left out. */
  private examples(labelId?: number): Map<number, LabelExample[]> {
    const rows = this.db
      .prepare<
        [number | null, number | null],
        { labelId: number; utteranceId: number; fileName: string; start: number; transcript: string }
      >(
        `SELECT e.label_id AS labelId, e.utterance_id AS utteranceId, r.file_name AS fileName,
                u.start_s AS start, u.transcript AS transcript
           FROM label_examples e
           JOIN utterances u ON u.id = e.utterance_id
           JOIN recordings r ON r.id = u.recording_id
          WHERE u.removed_at IS NULL AND (? IS NULL OR e.label_id = ?)
          ORDER BY e.label_id, e.position`,
      )
      .all(labelId ?? null, labelId ?? null);
    const byLabel = new Map<number, LabelExample[]>();
    for (const r of rows) {
      const list = byLabel.get(r.labelId) ?? [];
      list.push({ utteranceId: r.utteranceId, title: exampleTitle(r.fileName, r.start, r.transcript) });
      byLabel.set(r.labelId, list);
    }
    return byLabel;
  }

  /** Sets a label's guideline definition. */
  setDefinition(id: number, definition: string): void {
    this.db.prepare('UPDATE labels SET definition = ? WHERE id = ?').run(definition, id);
  }

  /** Replaces a label's example utterances with `utteranceIds`, in that order. */
  setExamples(id: number, utteranceIds: readonly number[]): void {
    this.db.prepare('DELETE FROM label_examples WHERE label_id = ?').run(id);
    const insert = this.db.prepare('INSERT INTO label_examples (label_id, utterance_id, position) VALUES (?, ?, ?)');
    utteranceIds.forEach((u, i) => insert.run(id, u, i));
  }

  insert(name: string, color: string, hotkey: string | null, definition = ''): Label {
    const position = (this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 AS p FROM labels').get() as { p: number })
      .p;
    const info = this.db
      .prepare('INSERT INTO labels (name, color, hotkey, position, definition) VALUES (?, ?, ?, ?, ?)')
      .run(name, color, hotkey, position, definition);
    return this.byId(Number(info.lastInsertRowid))!;
  }

  update(id: number, name: string, color: string, hotkey: string | null): void {
    this.db.prepare('UPDATE labels SET name = ?, color = ?, hotkey = ? WHERE id = ?').run(name, color, hotkey, id);
  }

  /** Frees a hotkey held by another label (a hotkey moves to the label it is given to). */
  releaseHotkey(hotkey: string, exceptId: number | null): void {
    this.db.prepare('UPDATE labels SET hotkey = NULL WHERE hotkey = ? AND id IS NOT ?').run(hotkey, exceptId);
  }

  usageCount(id: number): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM annotations WHERE label_id = ?').get(id) as { n: number }).n;
  }

  delete(id: number): void {
    this.db.prepare('DELETE FROM labels WHERE id = ?').run(id);
  }

  /** The first free hotkey 1-9, if any. */
  freeHotkey(): string | null {
    const used = new Set(this.list().map((l) => l.hotkey));
    for (let k = 1; k <= 9; k++) if (!used.has(String(k))) return String(k);
    return null;
  }
}

/** A readable colour for a label created without one (e.g. found in an imported manifest). */
export function colourFor(name: string): string {
  const palette = ['#2a9d8f', '#9b5de5', '#f15bb5', '#00bbf9', '#f8961e', '#43aa8b', '#577590', '#b5651d'];
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length]!;
}
