import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { Studio } from '../../src/main/api/studio';
import { handOut } from '../../src/main/merge/handout';
import {
  mergeConflictPlace,
  type JobStatus,
  type MergeRecord,
  type MergeReport,
  type MergeUndoReport,
} from '../../src/shared/contract';
import { AUDIO_FIXTURES, REPO_ROOT, copyInto, demoClips, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const AUDIO = ['speech.wav', 'speech.flac', 'speech-44k-stereo.wav'].map((f) => path.join(AUDIO_FIXTURES, f));

/**
 * A closed project file to start each case from: the three audio fixtures, each also cut in three
 * segments (12 utterances), labelled by ann1, ann2 and ann3 on some of them.
 */
let template: string;
beforeAll(async () => {
  const dir = tempDir('wavfusion-merge-');
  copyInto(path.join(dir, 'audio'), AUDIO);
  template = path.join(dir, 'template.sqlite');
  const studio = Studio.open(template);
  try {
    const status = await runImport(studio, path.join(dir, 'audio'));
    expect(status.state).toBe('succeeded');
    const { store } = studio;
    store.transaction(() => {
      for (const r of store.recordings.list())
        for (let i = 0; i < 3; i++)
          store.utterances.insert({
            recordingId: r.id,
            start: (i * r.durationS) / 3,
            end: ((i + 1) * r.durationS) / 3,
            speaker: null,
            transcript: '',
          });
    });
    const ids = store.rows().map((r) => r.id);
    const labels = store.labels.list();
    for (const [k, who] of ['ann1', 'ann2', 'ann3'].entries()) {
      studio.annotations.setAnnotator(who);
      for (let i = k; i < ids.length; i += 3) studio.annotations.setLabel(ids[i]!, labels[(i + k) % 4]!.id);
    }
  } finally {
    await studio.close();
  }
});

/** A fresh project from the template (its own folder). */
function freshProject(): string {
  const file = path.join(tempDir('wavfusion-merge-'), 'project.sqlite');
  fs.copyFileSync(template, file);
  return file;
}

function openStudio(file: string): Studio {
  const studio = Studio.open(file, { create: false });
  open.push(studio);
  return studio;
}

async function close(studio: Studio): Promise<void> {
  open.splice(open.indexOf(studio), 1);
  await studio.close();
}

/** Every annotation, keyed by what identifies it across copies (recording checksum, span, origin, annotator). */
function dump(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare<[], Record<string, unknown>>(
        `SELECT r.checksum, u.start_s, u.end_s, a.origin, a.annotator, l.name AS label, a.valence, a.arousal,
                a.dominance, a.note, a.unsure, a.updated_at
         FROM annotations a JOIN utterances u ON u.id = a.utterance_id JOIN recordings r ON r.id = u.recording_id
         LEFT JOIN labels l ON l.id = a.label_id`,
      )
      .all()
      .map((row) => JSON.stringify(Object.values(row)))
      .sort();
  } finally {
    db.close();
  }
}

function count(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function merge(file: string, copy: string): Promise<MergeReport> {
  const studio = openStudio(file);
  try {
    return await studio.merges.merge(copy);
  } finally {
    await close(studio);
  }
}

/** Seeded generator (mulberry32), so that a failing case can be rerun. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hand out a copy, merge it back', () => {
  it('for random interleavings of edits in two copies and the project, merge(A, B) equals merge(B, A), loses nothing, and a second merge changes nothing', async () => {
    const CASES = Number(process.env.MERGE_CASES ?? 50);
    const seen = { conflicts: 0, updated: 0, added: 0, history: 0 };
    for (let seed = 1; seed <= CASES; seed++) {
      const random = rng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      const base = freshProject();
      const dir = path.dirname(base);
      const main = openStudio(base);
      const a = handOut(main.store, { out: path.join(dir, 'a.sqlite'), annotator: 'ann1' });
      const b = handOut(main.store, { out: path.join(dir, 'b.sqlite'), annotator: 'ann2' });
      // ann1 works only in A, ann2 only in B, ann4 only in the project meanwhile, ann3 in all three (so
      // the same annotator's edits can conflict).
      const copies = [
        { studio: openStudio(a.copy), who: ['ann1', 'ann3'] },
        { studio: openStudio(b.copy), who: ['ann2', 'ann3'] },
        { studio: main, who: ['ann4', 'ann3'] },
      ];
      const ids = copies[0]!.studio.store.rows().map((r) => r.id);
      const labels = copies[0]!.studio.store.labels.list().map((l) => l.id);
      const steps = 8 + Math.floor(random() * 12);
      for (let s = 0; s < steps; s++) {
        const { studio, who } = pick(copies);
        studio.annotations.setAnnotator(pick(who));
        const u = pick(ids);
        const op = random();
        if (op < 0.45) studio.annotations.setLabel(u, random() < 0.15 ? null : pick(labels));
        else if (op < 0.6)
          studio.annotations.setDimensions(u, {
            valence: 1 + Math.floor(random() * 5),
            arousal: null,
            dominance: null,
            note: `n${s}`,
          });
        else if (op < 0.72) studio.annotations.setUnsure(u, random() < 0.5);
        else if (op < 0.86) studio.annotations.undo();
        else studio.annotations.redo();
        // now and then a pause, so that edits in the two copies are sometimes apart in time and sometimes not
        if (random() < 0.3) await new Promise((r) => setTimeout(r, 2));
      }
      for (const c of copies) await close(c.studio);
      const before = dump(base);

      const ab = path.join(dir, 'ab.sqlite');
      const ba = path.join(dir, 'ba.sqlite');
      fs.copyFileSync(base, ab);
      fs.copyFileSync(base, ba);
      for (const r of [await merge(ab, a.copy), await merge(ab, b.copy)]) {
        seen.conflicts += r.conflictsResolved;
        seen.updated += r.annotations.updated;
        seen.added += r.annotations.added;
        seen.history += r.history.added;
      }
      await merge(ba, b.copy);
      await merge(ba, a.copy);
      const merged = dump(ab);
      expect(dump(ba), `seed ${seed}`).toEqual(merged);
      // Nothing lost: ann1's annotations are A's, ann2's are B's.
      const of = (rows: string[], who: string) => rows.filter((r) => (JSON.parse(r) as unknown[])[4] === who);
      expect(of(merged, 'ann1'), `seed ${seed}`).toEqual(of(dump(a.copy), 'ann1'));
      expect(of(merged, 'ann2'), `seed ${seed}`).toEqual(of(dump(b.copy), 'ann2'));
      expect(of(merged, 'ann4'), `seed ${seed}`).toEqual(of(before, 'ann4'));
      // Merging either copy again changes nothing: not the annotations, not the history, no merge recorded.
      const history = count(ab, 'SELECT COUNT(*) AS n FROM history');
      const merges = count(ab, 'SELECT COUNT(*) AS n FROM merges');
      for (const copy of [a.copy, b.copy]) {
        const again = await merge(ab, copy);
        expect(again.nothingChanged, `seed ${seed}`).toBe(true);
        expect(again.mergeId).toBeNull();
        expect(again.annotations.added + again.annotations.updated + again.history.added).toBe(0);
        // conflicts were decided by the first merge of each copy: not reported again
        expect(again.conflictsResolved, `seed ${seed}`).toBe(0);
      }
      expect(dump(ab)).toEqual(merged);
      expect(count(ab, 'SELECT COUNT(*) AS n FROM history')).toBe(history);
      expect(count(ab, 'SELECT COUNT(*) AS n FROM merges')).toBe(merges);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // The cases did exercise the merge: conflicts, updates, new annotations, history brought over.
    expect(seen.conflicts).toBeGreaterThan(5);
    expect(seen.updated).toBeGreaterThan(20);
    expect(seen.added).toBeGreaterThan(20);
    expect(seen.history).toBeGreaterThan(200);
  }, 240_000);

  it('the same annotator on the same utterance in two copies: the later edit wins, either order, reported as a conflict', async () => {
    const base = freshProject();
    const dir = path.dirname(base);
    const main = openStudio(base);
    const a = handOut(main.store, { out: path.join(dir, 'a.sqlite'), annotator: 'alice' });
    const b = handOut(main.store, { out: path.join(dir, 'b.sqlite'), annotator: 'alice' });
    const { id: u, recordingName, start, end } = main.store.rows()[0]!;
    const labels = Object.fromEntries(main.store.labels.list().map((l) => [l.name, l.id]));
    await close(main);
    const ca = openStudio(a.copy);
    ca.annotations.setLabel(u, labels.happy!);
    await close(ca);
    await new Promise((r) => setTimeout(r, 5));
    const cb = openStudio(b.copy);
    cb.annotations.setLabel(u, labels.sad!);
    await close(cb);

    const ab = path.join(dir, 'ab.sqlite');
    fs.copyFileSync(base, ab);
    const first = await merge(ab, a.copy);
    expect(first).toMatchObject({ sameOrigin: true, conflictsResolved: 0, nothingChanged: false });
    expect(first.annotations).toMatchObject({ added: 1, updated: 0, refused: 0 });
    expect(first.history.added).toBe(1);
    const second = await merge(ab, b.copy);
    expect(second.conflictsResolved).toBe(1);
    // The conflict names the utterance as the list shows it: the recording's file name and the span.
    expect(recordingName).toMatch(/^speech.*\.(wav|flac)$/);
    expect(second.conflicts).toEqual([
      expect.objectContaining({ utteranceId: u, recordingName, start, end, annotator: 'alice', kept: 'copy' }),
    ]);
    expect(mergeConflictPlace(second.conflicts[0]!)).toBe(`${recordingName} ${start.toFixed(2)}–${end.toFixed(2)} s`);
    expect(second.annotations).toMatchObject({ updated: 1 });

    const ba = path.join(dir, 'ba.sqlite');
    fs.copyFileSync(base, ba);
    await merge(ba, b.copy);
    const late = await merge(ba, a.copy);
    expect(late.conflictsResolved).toBe(1);
    expect(late.conflicts[0]).toMatchObject({
      utteranceId: u,
      recordingName,
      start,
      end,
      annotator: 'alice',
      kept: 'project',
    });

    // A report stored before conflicts named their recording and span still lists, with nulls there.
    const db = new Database(ab);
    db.prepare(
      `UPDATE merges SET report = json_remove(report, '$.conflicts[0].recordingName', '$.conflicts[0].start',
         '$.conflicts[0].end')`,
    ).run();
    db.close();
    const old = openStudio(ab);
    const [record] = (await invokeOperation(createHandlers(old), 'listMerges', {})) as MergeRecord[];
    expect(record!.report.conflicts).toEqual([
      expect.objectContaining({ utteranceId: u, recordingName: null, start: null, end: null }),
    ]);
    expect(mergeConflictPlace(record!.report.conflicts[0]!)).toBe(`Utterance ${u}`);
    await close(old);
    expect(dump(ba)).toEqual(dump(ab));
    expect(await merge(ab, a.copy)).toMatchObject({ nothingChanged: true, conflictsResolved: 0, conflicts: [] });
    const s = openStudio(ab);
    expect(s.store.annotations.get(u, 'human', 'alice')?.labelId).toBe(labels.sad);
    // Both edits are in the history (the audit trail); alice's own Undo here does not reach into them.
    expect(s.store.annotations.history(u).filter((h) => h.annotator === 'alice')).toHaveLength(2);
    s.annotations.setAnnotator('alice');
    expect(s.annotations.undo()).toBeNull();
  });

  it('a copy of other recordings is refused with a clear message and changes nothing', async () => {
    const base = freshProject();
    const dir = path.dirname(base);
    const other = Studio.open(path.join(dir, 'other.sqlite'));
    open.push(other);
    const clips = tempDir();
    copyInto(clips, demoClips('spk_a', 2));
    await runImport(other, clips);
    other.annotations.setLabel(other.store.rows()[0]!.id, other.store.labels.list()[0]!.id);
    const copy = handOut(other.store, { out: path.join(dir, 'other-copy.sqlite'), annotator: 'zed' });
    await close(other);

    const before = { dump: dump(base) };
    const studio = openStudio(base);
    const call = (name: 'startMerge' | 'listMerges', input: unknown = {}) =>
      invokeOperation(createHandlers(studio), name, input);
    const { jobId } = (await call('startMerge', { copy: copy.copy })) as { jobId: string };
    const status: JobStatus = await studio.jobs.wait(jobId);
    expect(status).toMatchObject({ kind: 'merge', state: 'failed' });
    expect(status.error).toMatch(/has no recording in common with this project/);
    expect(status.error).toMatch(/handed out from another project .* Nothing was merged/);
    await expect(studio.merges.merge(base)).rejects.toThrow(/cannot be merged into itself/);
    expect(await call('listMerges')).toEqual([]);
    await close(studio);
    expect(dump(base)).toEqual(before.dump);
    expect(count(base, 'SELECT COUNT(*) AS n FROM recordings')).toBe(3);
    expect(count(base, "SELECT COUNT(*) AS n FROM annotators WHERE name = 'zed'")).toBe(0);
  });

  it('a copy of a copy (not handed out from here, same recordings) merges by content, once, its history not duplicated', async () => {
    const base = freshProject();
    const dir = path.dirname(base);
    const main = openStudio(base);
    const a = handOut(main.store, { out: path.join(dir, 'a.sqlite') });
    await close(main);
    const ca = openStudio(a.copy);
    const a2 = handOut(ca.store, { out: path.join(dir, 'a2.sqlite'), annotator: 'ann1' });
    await close(ca);
    const c = openStudio(a2.copy);
    const [u1, u2] = c.store.rows().map((r) => r.id);
    c.annotations.setLabel(u1!, c.store.labels.list()[3]!.id);
    c.annotations.setUnsure(u2!, true);
    await close(c);
    const history = count(base, 'SELECT COUNT(*) AS n FROM history');
    const first = await merge(base, a2.copy);
    expect(first).toMatchObject({ sameOrigin: false, nothingChanged: false });
    expect(first.annotations.added + first.annotations.updated).toBe(2);
    // the history the two share (the project's own, before the hand-outs) is recognised, not copied again
    expect(first.history).toMatchObject({ added: 2, unchanged: history });
    expect(count(base, 'SELECT COUNT(*) AS n FROM history')).toBe(history + 2);
    expect((await merge(base, a2.copy)).nothingChanged).toBe(true);
    expect(dump(base)).toEqual(dump(a2.copy));
  });

  it('undoMerge reverts a merge as one step (edits made since are kept); the copy can be merged again', async () => {
    const base = freshProject();
    const dir = path.dirname(base);
    const main = openStudio(base);
    const a = handOut(main.store, { out: path.join(dir, 'a.sqlite'), annotator: 'newcomer', bundleAudio: true });
    await close(main);
    expect(fs.readdirSync(`${a.copy}.audio`)).toHaveLength(3);
    const before = dump(base);
    const c = openStudio(a.copy);
    // the copy's recordings point at the bundled audio
    expect(c.store.recordings.list().every((r) => r.path.startsWith(`${a.copy}.audio`))).toBe(true);
    expect(c.store.annotator).toBe('newcomer');
    const [u1, u2] = c.store.rows().map((r) => r.id);
    const happy = c.store.labels.list()[1]!.id;
    c.annotations.setLabel(u1!, happy);
    c.annotations.setLabel(u2!, happy);
    // a new label and a new segment, made in the copy
    const labels = c.labels.save({ name: 'calm', color: '#00aa88', hotkey: null });
    const calm = labels.find((l) => l.name === 'calm')!.id;
    const rec = c.store.recordings.list()[0]!;
    const seg = c.store.transaction(() =>
      c.store.utterances.insert({ recordingId: rec.id, start: 0.05, end: 0.15, speaker: 'x', transcript: 'new' }),
    );
    c.annotations.setLabel(seg, calm);
    await close(c);

    const studio = openStudio(base);
    const handlers = createHandlers(studio);
    const report = await studio.merges.merge(a.copy);
    expect(report).toMatchObject({ labelsAdded: 1, annotatorsAdded: 1, nothingChanged: false });
    expect(report.utterances.added).toBe(1);
    expect(report.annotations).toMatchObject({ added: 3, updated: 0 });
    expect(studio.store.labels.list().some((l) => l.name === 'calm')).toBe(true);
    // someone edits one merged label before the merge is undone: that edit is kept
    studio.annotations.setAnnotator('newcomer');
    studio.annotations.setLabel(u2!, null);
    const merges = (await invokeOperation(handlers, 'listMerges', {})) as MergeRecord[];
    expect(merges).toHaveLength(1);
    const undone = (await invokeOperation(handlers, 'undoMerge', {})) as MergeUndoReport;
    expect(undone).toMatchObject({ annotationsReverted: 2, annotationsKept: 1, utterancesRemoved: 1 });
    // the calm label and the newcomer are still used (u2's history is theirs; the kept edit cleared it)
    expect(dump(base).filter((r) => !before.includes(r))).toEqual([]);
    expect(studio.store.rows().some((r) => r.transcript === 'new')).toBe(false);
    await expect(invokeOperation(handlers, 'undoMerge', {})).rejects.toThrow(/no merge to undo/);
    // merged again after the undo: the copy's changes come back
    const again = await studio.merges.merge(a.copy);
    expect(again.nothingChanged).toBe(false);
    expect(again.utterances.added).toBe(1);
    expect(studio.store.annotations.get(u1!, 'human', 'newcomer')?.labelId).toBe(happy);
    expect(studio.store.rows().some((r) => r.transcript === 'new')).toBe(true);
  });

  it('wavfusion handout and wavfusion merge, through the real CLI entry', async () => {
    const base = freshProject();
    const dir = path.dirname(base);
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'tests/helpers/serve-entry.ts', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
    const copy = path.join(dir, 'for-ann1.wfproj');
    const out = cli('handout', '--project', base, '--out', copy, '--annotator', 'ann1', '--json');
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ copy, annotator: 'ann1', recordings: 3, utterances: 12 });
    const c = openStudio(copy);
    const u = c.store.rows()[0]!.id;
    c.annotations.setLabel(u, c.store.labels.list()[2]!.id);
    await close(c);

    const merged = cli('merge', '--project', base, '--copy', copy, '--json');
    expect(merged.status).toBe(0);
    const report = JSON.parse(merged.stdout) as MergeReport;
    expect(report).toMatchObject({ sameOrigin: true, nothingChanged: false, conflictsResolved: 0 });
    expect(report.annotations.updated + report.annotations.added).toBe(1);
    const twice = cli('merge', '--project', base, '--copy', copy);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toMatch(/Nothing to merge from .*: everything in it is already here/);
    const undo = cli('merge', '--project', base, '--undo', '--json');
    expect(undo.status).toBe(0);
    expect(JSON.parse(undo.stdout)).toMatchObject({ mergeId: report.mergeId, annotationsReverted: 1 });
    const unrelated = cli('merge', '--project', base, '--copy', path.join(dir, 'nope.sqlite'));
    expect(unrelated.status).toBe(1);
    expect(unrelated.stderr).toMatch(/Copy not found/);
    const usage = cli('merge', '--project', base);
    expect(usage.status).toBe(2);
  }, 120_000);
});
