import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/main/import/manifest';
import { tempDir } from '../helpers/fixtures';

function write(name: string, content: string | Buffer): string {
  const file = path.join(tempDir(), name);
  fs.writeFileSync(file, content);
  return file;
}

describe('manifest parsing', () => {
  it('reads CSV with a BOM, CRLF line ends, quoted commas, quotes and newlines, and resolves relative paths', () => {
    const file = write(
      'm.csv',
      '\uFEFFPath,Text,Speaker,Label,Start,End\r\n' +
        'clips/a.wav,"Hello, world",s1,happy,0.5,1.25\r\n' +
        '"clips/b c.wav","She said ""no""\r\nthen left",s2,,,\r\n',
    );
    const { rows, problems } = readManifest(file);
    expect(problems).toEqual([]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      path: path.join(path.dirname(file), 'clips', 'a.wav'),
      text: 'Hello, world',
      speaker: 's1',
      label: 'happy',
      start: 0.5,
      end: 1.25,
    });
    expect(rows[1]).toMatchObject({ text: 'She said "no"\r\nthen left', label: null, start: null, end: null });
    expect(rows[1]!.path.endsWith(path.join('clips', 'b c.wav'))).toBe(true);
  });

  it('rejects a CSV without a path column, naming the columns it found', () => {
    const file = write('m.csv', 'file,text\na.wav,hi\n');
    expect(() => readManifest(file)).toThrow(/no "path" column \(found: file, text\)/);
  });

  it('rejects a CSV with an unclosed quote with a message naming the file', () => {
    const file = write('broken.csv', 'path,text\na.wav,"never closed\nb.wav,ok\n');
    expect(() => readManifest(file)).toThrow(/broken\.csv is not a valid CSV file/);
  });

  it('reports bad rows by line and keeps the good ones', () => {
    const file = write('m.csv', 'path,start,end\na.wav,0,1\n,0,1\nb.wav,abc,2\nc.wav,2,1\nd.wav,,\n');
    const { rows, problems } = readManifest(file);
    expect(rows.map((r) => path.basename(r.path))).toEqual(['a.wav', 'd.wav']);
    expect(problems).toEqual([
      { line: 3, reason: expect.stringMatching(/path: empty path/) },
      { line: 4, reason: expect.stringMatching(/start: not a time in seconds: "abc"/) },
      { line: 5, reason: 'end (1) must be after start (2)' },
    ]);
  });

  it('reads JSONL, reporting invalid JSON lines by number', () => {
    const file = write(
      'm.jsonl',
      '{"path":"a.wav","text":"hi","speaker":7,"label":"sad","start":0,"end":1}\r\n{oops\n\n{"text":"no path"}\n',
    );
    const { rows, problems } = readManifest(file);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ speaker: '7', label: 'sad', end: 1 });
    expect(problems.map((p) => p.line)).toEqual([2, 4]);
    expect(problems[0]!.reason).toMatch(/not valid JSON/);
    expect(problems[1]!.reason).toMatch(/path/);
  });
});
