import type { Label } from '../../shared/contract';
import type { Db } from './open-database';

interface LabelRecord {
  id: number;
  name: string;
  color: string;
  hotkey: string | null;
  position: number;
}

export class LabelsRepository {
  constructor(private readonly db: Db) {}

  list(): Label[] {
    return this.db
      .prepare<[], LabelRecord>('SELECT id, name, color, hotkey, position FROM labels ORDER BY position, id')
      .all();
  }

  byName(name: string): Label | undefined {
    return this.db
      .prepare<[string], LabelRecord>('SELECT id, name, color, hotkey, position FROM labels WHERE name = ?')
      .get(name);
  }

  byId(id: number): Label | undefined {
    return this.db
      .prepare<[number], LabelRecord>('SELECT id, name, color, hotkey, position FROM labels WHERE id = ?')
      .get(id);
  }

  insert(name: string, color: string, hotkey: string | null): Label {
    const position = (this.db.prepare('SELECT COALESCE(MAX(position), -1) + 1 AS p FROM labels').get() as { p: number })
      .p;
    const info = this.db
      .prepare('INSERT INTO labels (name, color, hotkey, position) VALUES (?, ?, ?, ?)')
      .run(name, color, hotkey, position);
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
