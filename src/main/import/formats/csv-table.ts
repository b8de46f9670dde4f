/** A CSV file with a header row (MELD, audiofolder metadata.csv) read with csv-parse, rows with their lines. */
import { parse as parseCsv } from 'csv-parse/sync';

export interface CsvTable {
  columns: string[];
  rows: { line: number; record: Record<string, string> }[];
}

/**
 * Parses text (already decoded) with a header row; BOM, quotes, CRLF and multi-line fields handled by
 * csv-parse. Column names are trimmed. Returns a reason instead when the file is not CSV at all.
 */
export function readCsvTable(text: string): CsvTable | { error: string } {
  try {
    const parsed = parseCsv(text, {
      bom: true,
      columns: (header: string[]) => header.map((h) => h.trim()),
      skip_empty_lines: true,
      relax_column_count: true,
      info: true,
    }) as { record: Record<string, string>; info: { bytes: number } }[];
    const columns = parsed.length ? Object.keys(parsed[0]!.record) : [];
    // The line a record starts on (csv-parse's info.lines is where it ends, and counts a CRLF inside
    // quotes twice): from the UTF-8 offset where the previous record ended, past blank lines.
    const bytes = Buffer.from(text, 'utf8');
    let at = bytes.indexOf(10) + 1;
    let line = 2;
    const rows = parsed.map((p) => {
      for (; at < bytes.length && (bytes[at] === 10 || bytes[at] === 13); at++) if (bytes[at] === 10) line++;
      const start = line;
      for (; at < p.info.bytes && at < bytes.length; at++) if (bytes[at] === 10) line++;
      return { line: start, record: p.record };
    });
    return { columns, rows };
  } catch (err) {
    // csv-parse's message can quote the text; say what and where instead.
    const { code, lines } = err as { code?: string; lines?: number };
    const what = code ? code.replace(/^CSV_/, '').replace(/_/g, ' ').toLowerCase() : 'unreadable';
    return { error: `not a valid CSV file: ${what}${lines ? ` (line ${lines})` : ''}` };
  }
}

/** A rating cell: empty → null; a number within 1–5, else a reason. */
export function ratingCell(value: string | undefined, column: string): number | null | { error: string } {
  const v = (value ?? '').trim();
  if (!v) return null;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1 || n > 5)
    return { error: `${column} ${JSON.stringify(v)} is not a number from 1 to 5` };
  return n;
}
