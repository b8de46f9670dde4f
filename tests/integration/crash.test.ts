import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import { DEMO_CORPUS, REPO_ROOT, runImport, tempDir } from '../helpers/fixtures';

/** 36 demo recordings cut into 8 segments each: 288 utterances to label. */
function segmentedManifest(): string {
  const dir = tempDir();
  const lines = ['path,start,end,speaker'];
  for (const speaker of fs.readdirSync(DEMO_CORPUS).sort()) {
    for (const f of fs.readdirSync(path.join(DEMO_CORPUS, speaker)).filter((x) => x.endsWith('.wav'))) {
      for (let i = 0; i < 8; i++)
        lines.push(`${path.join(DEMO_CORPUS, speaker, f)},${i * 0.25},${i * 0.25 + 0.25},${speaker}`);
    }
  }
  const file = path.join(dir, 'segments.csv');
  fs.writeFileSync(file, lines.join('\n'));
  return file;
}

describe('crash safety', () => {
  it('keeps every acknowledged label when the host is killed with SIGKILL mid-write', async () => {
    const file = path.join(tempDir(), 'crash.sqlite');
    const setup = Studio.open(file);
    await runImport(setup, segmentedManifest());
    const ids = setup.store.rows().map((r) => r.id);
    await setup.close();
    expect(ids.length).toBe(288);

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'tests/helpers/serve-entry.ts', 'serve', '--project', file, '--port', '0'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, WAVFUSION_TOKEN: 'crash-token' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += String(d);
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
        if (m) resolve(`http://127.0.0.1:${m[1]}`);
      });
      child.on('exit', (code) => reject(new Error(`host exited early (${code})`)));
      setTimeout(() => reject(new Error('host did not start')), 60_000);
    });

    const acknowledged = new Map<number, number>();
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (!killed && next < ids.length) {
        const id = ids[next++]!;
        const labelId = (id % 4) + 1;
        try {
          const res = await fetch(`${base}/api/setLabel`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: 'Bearer crash-token' },
            body: JSON.stringify({ utteranceId: id, labelId }),
          });
          if (res.ok) acknowledged.set(id, labelId);
        } catch {
          // the host died while this request was in flight: not acknowledged
        }
        if (!killed && acknowledged.size >= 120) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(null) : child.once('exit', r)));
    expect(child.signalCode).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThanOrEqual(120);

    const reopened = Studio.open(file);
    try {
      for (const [id, labelId] of acknowledged) {
        expect(reopened.annotations.row(id).labelId, `utterance ${id}`).toBe(labelId);
      }
      expect(reopened.store.annotations.history().length).toBeGreaterThanOrEqual(acknowledged.size);
      expect(reopened.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await reopened.close();
    }
  });
});
