import type { Db } from './open-database';

export interface Recording {
  id: number;
  path: string;
  fileName: string;
  sizeBytes: number;
  checksum: string;
  format: string;
  durationS: number;
  sampleRate: number;
  channels: number;
  peaksPerSecond: number;
}

export type NewRecording = Omit<Recording, 'id'> & { peaks: Float32Array };

const COLUMNS = `id, path, file_name AS fileName, size_bytes AS sizeBytes, checksum, format,
  duration_s AS durationS, sample_rate AS sampleRate, channels, peaks_per_second AS peaksPerSecond`;

export class RecordingsRepository {
  constructor(private readonly db: Db) {}

  insert(r: NewRecording): number {
    const info = this.db
      .prepare(
        `INSERT INTO recordings (path, file_name, size_bytes, checksum, format, duration_s, sample_rate, channels,
           peaks, peaks_per_second, imported_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        r.path,
        r.fileName,
        r.sizeBytes,
        r.checksum,
        r.format,
        r.durationS,
        r.sampleRate,
        r.channels,
        Buffer.from(r.peaks.buffer, r.peaks.byteOffset, r.peaks.byteLength),
        r.peaksPerSecond,
        new Date().toISOString(),
      );
    return Number(info.lastInsertRowid);
  }

  byId(id: number): Recording | undefined {
    return this.db.prepare<[number], Recording>(`SELECT ${COLUMNS} FROM recordings WHERE id = ?`).get(id);
  }

  byPath(path: string): Recording | undefined {
    return this.db.prepare<[string], Recording>(`SELECT ${COLUMNS} FROM recordings WHERE path = ?`).get(path);
  }

  list(): Recording[] {
    return this.db.prepare<[], Recording>(`SELECT ${COLUMNS} FROM recordings ORDER BY id`).all();
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM recordings').get() as { n: number }).n;
  }

  peaks(id: number): Float32Array {
    const row = this.db.prepare<[number], { peaks: Buffer }>('SELECT peaks FROM recordings WHERE id = ?').get(id);
    if (!row) return new Float32Array(0);
    const copy = Buffer.from(row.peaks);
    return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength / 4);
  }

  relink(id: number, path: string): void {
    this.db.prepare('UPDATE recordings SET path = ? WHERE id = ?').run(path, id);
  }
}
