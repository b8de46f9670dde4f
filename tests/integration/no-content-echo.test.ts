import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/main/import/manifest';
import { readModelBundle } from '../../src/main/inference/model-bundle';
import { DEMO_MODEL, tempDir } from '../helpers/fixtures';

const SECRET = 'root:x:0:0:TOP-SECRET-CONTENT:/root:/bin/bash';

/** A copy of the demo bundle (its graphs linked) with model.json changed by `edit`. */
function bundle(edit: (manifest: Record<string, unknown>) => void): string {
  const dir = tempDir();
  for (const f of fs.readdirSync(DEMO_MODEL).filter((n) => n.endsWith('.onnx')))
    fs.symlinkSync(path.join(DEMO_MODEL, f), path.join(dir, f));
  fs.copyFileSync(path.join(DEMO_MODEL, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const manifest = JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8'));
  edit(manifest);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
  return dir;
}

async function messageOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('did not fail');
}

describe('error messages never quote file contents', () => {
  it('confines model.json file names to the bundle folder', async () => {
    const outside = path.join(tempDir(), 'passwd');
    fs.writeFileSync(outside, SECRET);
    for (const tokenizer of [
      outside,
      '../../../../../../etc/passwd',
      `../${path.basename(path.dirname(outside))}/passwd`,
    ]) {
      const message = await messageOf(readModelBundle(bundle((m) => (m.tokenizer = tokenizer))));
      expect(message).toMatch(/model\.json: tokenizer must name a file inside the bundle folder/);
      expect(message).not.toContain('TOP-SECRET');
    }
    const model = await messageOf(readModelBundle(bundle((m) => (m.model = '/etc/hostname'))));
    expect(model).toMatch(/model must name a file inside the bundle folder/);
    // Inside the folder, through a symbolic link (the Hugging Face cache layout), is fine.
    expect((await readModelBundle(bundle(() => {}))).manifest.labels.length).toBeGreaterThan(1);
  });

  it('says a tokenizer or model.json is not JSON without quoting it', async () => {
    const dir = bundle((m) => (m.tokenizer = 'vocab.txt'));
    fs.writeFileSync(path.join(dir, 'vocab.txt'), SECRET);
    const message = await messageOf(readModelBundle(dir));
    expect(message).toMatch(/vocab\.txt is not valid JSON/);
    expect(message).not.toContain('TOP-SECRET');
    fs.writeFileSync(path.join(dir, 'model.json'), SECRET);
    const broken = await messageOf(readModelBundle(dir));
    expect(broken).toMatch(/model\.json is not valid JSON/);
    expect(broken).not.toContain('TOP-SECRET');
  });

  it('reports a manifest that is some other file without quoting it', () => {
    const dir = tempDir();
    const csv = path.join(dir, 'passwd.csv');
    fs.writeFileSync(csv, `${SECRET}\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n`);
    expect(() => readManifest(csv)).toThrow(
      /passwd\.csv has no "path" column \(its first line is not a manifest header\)/,
    );
    expect(() => readManifest(csv)).not.toThrow(/TOP-SECRET/);
    const quoted = path.join(dir, 'quoted.csv');
    fs.writeFileSync(quoted, `path,text\n"a.wav"TOP-SECRET,x\n`);
    expect(() => readManifest(quoted)).toThrow(/quoted\.csv is not a valid CSV file: invalid closing quote \(line 2\)/);
    expect(() => readManifest(quoted)).not.toThrow(/TOP-SECRET/);
    const jsonl = path.join(dir, 'passwd.jsonl');
    fs.writeFileSync(jsonl, `${SECRET}\n`);
    expect(readManifest(jsonl).problems).toEqual([{ line: 1, reason: 'not valid JSON' }]);
  });
});
