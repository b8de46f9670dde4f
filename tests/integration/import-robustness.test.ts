import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Studio } from '../../src/main/api/studio';
import type { ImportReport, JobStatus } from '../../src/shared/contract';
import {
  AUDIO_FIXTURES,
  REPO_ROOT,
  copyInto,
  demoClips,
  openTempStudio,
  runImport,
  tempDir,
} from '../helpers/fixtures';

let studio: Studio | null = null;
afterEach(async () => {
  await studio?.close();
  studio = null;
});

const reasonsOf = (report: ImportReport, root: string) =>
  Object.fromEntries(report.failures.map((f) => [path.relative(root, f.path), f.reason]));

describe('folder import: every entry imported or reported', () => {
  it('follows symbolic links to audio; reports loops, dangling links, folders named .wav and fake audio', async () => {
    ({ studio } = openTempStudio());
    const store = tempDir(); // e.g. git-annex objects or the Hugging Face blob cache
    const [a, b, c] = copyInto(store, demoClips('spk_a', 3));
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'spk'));
    fs.symlinkSync(a!, path.join(root, 'spk', 'linked.wav'));
    fs.symlinkSync(path.join(root, 'loop-b.wav'), path.join(root, 'loop-a.wav'));
    fs.symlinkSync(path.join(root, 'loop-a.wav'), path.join(root, 'loop-b.wav'));
    fs.symlinkSync(path.join(root, 'gone.wav'), path.join(root, 'dangling.wav'));
    fs.symlinkSync(root, path.join(root, 'spk', 'back-to-root')); // a folder loop
    fs.mkdirSync(path.join(root, 'folder.wav'));
    fs.copyFileSync(b!, path.join(root, 'folder.wav', 'inside.wav'));
    fs.symlinkSync(store, path.join(root, 'linked-folder'));
    // ID3 tag, or an MP3 frame header, then junk: the magic bytes say MP3, the content does not.
    const id3 = Buffer.from('ID3\u0004\u0000\u0000\u0000\u0000\u0000\u0000', 'latin1');
    fs.writeFileSync(path.join(root, 'id3-junk.mp3'), Buffer.concat([id3, randomBytes(30000)]));
    fs.writeFileSync(
      path.join(root, 'frame-junk.mp3'),
      Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), randomBytes(30000)]),
    );
    fs.copyFileSync(path.join(AUDIO_FIXTURES, 'speech.mp3'), path.join(root, 'real.mp3'));

    const status = await runImport(studio, root);
    expect(status.error).toBeUndefined();
    const report = status.result as ImportReport;
    const names = studio.store.recordings
      .list()
      .map((r) => path.relative(root, r.path))
      .sort();
    expect(names).toEqual([
      'folder.wav/inside.wav',
      ...[a, b, c].map((f) => path.join('linked-folder', path.basename(f!))).sort(),
      'real.mp3',
      'spk/linked.wav',
    ]);
    expect(report.recordingsAdded).toBe(names.length);
    const reasons = reasonsOf(report, root);
    expect(reasons).toEqual({
      'loop-a.wav': 'symbolic link loop (it points back to itself)',
      'loop-b.wav': 'symbolic link loop (it points back to itself)',
      'dangling.wav': 'dangling symbolic link: its target does not exist',
      'spk/back-to-root': `symbolic link loop: ${fs.realpathSync(root)} is already being scanned`,
      'folder.wav': 'is a folder, not an audio file (its contents are scanned)',
      'id3-junk.mp3': expect.stringMatching(/not an audio file|cannot decode MP3/),
      'frame-junk.mp3': 'not an audio file: its content is not MP3 frames after the header',
    });
  });

  it('imports the rest when a transcript or a sub-folder cannot be read, and says which and why', () => {
    const root = tempDir();
    fs.chmodSync(root, 0o755);
    const clips = demoClips('spk_b', 3);
    copyInto(path.join(root, 'ok'), [clips[0]!]);
    copyInto(path.join(root, 'locked'), [clips[1]!]);
    copyInto(path.join(root, 'ok'), [clips[2]!]);
    const transcript = path.join(root, 'ok', path.basename(clips[2]!).replace('.wav', '.txt'));
    fs.writeFileSync(transcript, 'secret transcript');
    fs.writeFileSync(path.join(root, 'ok', path.basename(clips[0]!).replace('.wav', '.txt')), 'readable');
    for (const d of ['ok', 'locked']) fs.chmodSync(path.join(root, d), 0o755);
    for (const f of fs.readdirSync(path.join(root, 'ok'))) fs.chmodSync(path.join(root, 'ok', f), 0o644);
    fs.chmodSync(transcript, 0o000);
    fs.chmodSync(path.join(root, 'locked'), 0o000);
    const projectDir = tempDir();
    fs.chmodSync(projectDir, 0o777);
    const project = path.join(projectDir, 'p.sqlite');

    // Root reads everything, so permissions are tested as an unprivileged user there.
    const asRoot = process.getuid?.() === 0;
    const run = spawnSync(
      asRoot ? 'setpriv' : process.execPath,
      [
        ...(asRoot ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : []),
        '--import',
        'tsx',
        'tests/helpers/serve-entry.ts',
        'import',
        '--project',
        project,
        root,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, HOME: projectDir } },
    );
    fs.chmodSync(path.join(root, 'locked'), 0o755);
    expect(run.stderr).not.toMatch(/import failed/);
    expect(run.status).toBe(3); // some entries failed, the rest imported
    const report = JSON.parse(run.stdout) as ImportReport;
    expect(report.recordingsAdded).toBe(2);
    expect(reasonsOf(report, root)).toEqual({
      locked: expect.stringMatching(/^cannot read folder: permission denied/),
      [path.relative(root, transcript)]: expect.stringMatching(/^cannot read transcript: permission denied/),
    });
    expect(report.failures.map((f) => f.reason).join(' ')).not.toContain('secret');
  }, 60_000);
});

describe('import under concurrency and faults', () => {
  it('the same folder imported twice at once: every file added once, no false failure', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    copyInto(root, [...demoClips('spk_c', 9), ...demoClips('spk_d', 9)]);
    const ids = [1, 2].map(() =>
      studio!.jobs.start('import', 'twice', (ctx) => studio!.importer.importPath(root, ctx)),
    );
    const reports = (await Promise.all(ids.map((id) => studio!.jobs.wait(id)))).map((s) => s.result as ImportReport);
    expect(reports.flatMap((r) => r.failures)).toEqual([]);
    expect(reports[0]!.recordingsAdded + reports[1]!.recordingsAdded).toBe(18);
    expect(reports[0]!.recordingsReused + reports[1]!.recordingsReused).toBe(18);
    expect(studio.store.recordings.count()).toBe(18);
    expect(studio.store.utterances.count()).toBe(18);
  });

  it('a full project file (SQLITE_FULL) stops the import with exact, committed counts', async () => {
    ({ studio } = openTempStudio());
    const root = tempDir();
    copyInto(root, [...demoClips('spk_a', 9), ...demoClips('spk_b', 9)]);
    const pages = studio.store.db.pragma('page_count', { simple: true }) as number;
    studio.store.db.pragma(`max_page_count = ${pages + 3}`);
    const status: JobStatus = await runImport(studio, root);
    const added = studio.store.recordings.count();
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThan(18);
    expect(status.state).toBe('failed');
    expect(status.error).toBe(
      `The project's disk is full (${studio.store.file}): import stopped at file ${added + 1} of 18. ` +
        `Committed: ${added} recordings and ${added} utterances added, 0 reused; 1 failure(s). ` +
        'Free some space and import again to add the rest (files already imported are reused).',
    );
    studio.store.db.pragma('max_page_count = 1073741823');
    const again = await runImport(studio, root);
    expect(again.result).toMatchObject({ recordingsAdded: 18 - added, recordingsReused: added, failures: [] });
  });
});
