import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { Studio } from '../../src/main/api/studio';
import type { JobStatus } from '../../src/shared/contract';
import { copyInto, demoClips, runImport, tempDir } from '../helpers/fixtures';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('a page of the project damaged while it is open', () => {
  it('every operation then fails with one clear message; a failing job ends failed; nothing rejects unhandled', async () => {
    const file = path.join(tempDir(), 'p.sqlite');
    const studio = Studio.open(file);
    const corpus = tempDir();
    copyInto(corpus, demoClips('spk_c', 9));
    await runImport(studio, corpus);
    const rows = studio.store.rows();
    for (const r of rows) studio.annotations.setLabel(r.id, 1);

    // Another connection writes and checkpoints (so the studio re-reads pages from the file), then a
    // bad sector hits the annotations table.
    const other = new Database(file);
    other.prepare("INSERT INTO project_meta (key, value) VALUES ('touched', '1')").run();
    other.pragma('wal_checkpoint(TRUNCATE)');
    const { rootpage } = other.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'annotations'").get() as {
      rootpage: number;
    };
    const pageSize = other.pragma('page_size', { simple: true }) as number;
    other.close();
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (rootpage - 1) * pageSize);
    fs.closeSync(fd);

    const handlers = createHandlers(studio);
    const call = (name: string, input: unknown) => invokeOperation(handlers, name, input);
    const damaged = new RegExp(`The project file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is damaged`);
    // The first thing to meet the damage is an export job: it ends failed, and its follow-up (which
    // reads the project too) must not reject unhandled, which would end the host process.
    const { jobId } = (await call('startExport', { folder: path.join(tempDir(), 'out') })) as { jobId: string };
    const status: JobStatus = await studio.jobs.wait(jobId);
    expect(status.state).toBe('failed');
    expect(status.error).toMatch(damaged);
    await new Promise((r) => setTimeout(r, 50));
    await expect(call('listUtterances', {})).rejects.toThrow(damaged);
    await expect(call('getProjectInfo', {})).rejects.toThrow(damaged);
    await expect(call('setLabel', { utteranceId: rows[0]!.id, labelId: 2 })).rejects.toThrow(
      /makes no more changes to it.*restore the newest backup/,
    );
    expect(unhandled).toEqual([]);
    await studio.close();
  });
});
