import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../errors';
import type { ProjectStore } from '../project/project-store';

export interface HandoutRequest {
  /** The copy's file; it must not exist. */
  out: string;
  /** Who labels in the copy: its session annotator, added to its roster. */
  annotator?: string;
  /** Copy the audio files into `<out>.audio/` beside the copy and point the copy's recordings there. */
  bundleAudio?: boolean;
}

export interface HandoutReport {
  copy: string;
  projectId: string;
  originProjectId: string;
  annotator: string | null;
  recordings: number;
  utterances: number;
  /** Where the audio was bundled, if it was. */
  audioFolder: string | null;
  /** Recordings whose file was missing here, so not bundled (the copy still lists them). */
  audioMissing: number;
}

/** Meta keys of a hand-out copy: where it came from and what the project held when it was handed out. */
export const HANDOUT_META = {
  origin: 'origin_project_id',
  at: 'handout_at',
  historySeq: 'handout_history_seq',
} as const;

/** The project's identity (migration 011); a project older than it gets one at its next open. */
export function projectIdOf(store: ProjectStore): string {
  const id = store.meta.get('project_id');
  if (id) return id;
  const fresh = randomUUID();
  store.transaction(() => store.meta.set('project_id', fresh));
  return fresh;
}

/**
 * Hands out a copy of the open project for someone to label apart: a consistent snapshot (`VACUUM
 * INTO`, safe while others write; never a file copy of the live database) that references the same
 * recordings (or bundles them beside it), with a new project id and its origin's recorded, so that
 * `MergeService` can tell it was handed out from here and what it already shared with the project.
 */
export function handOut(store: ProjectStore, request: HandoutRequest): HandoutReport {
  const out = path.resolve(request.out);
  if (fs.existsSync(out)) throw new StudioError('conflict', `${out} exists; give a new file name for the copy`);
  if (out === store.file) throw new StudioError('conflict', 'The copy cannot be the project itself');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const originId = projectIdOf(store);
  // A consistent snapshot; what it shares with the project (its history so far) is read from it.
  store.db.prepare('VACUUM INTO ?').run(out);
  const seq = readHistorySeq(out);
  const copy = new Database(out, { nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined });
  try {
    const projectId = randomUUID();
    const annotator = request.annotator?.trim() || null;
    let audioFolder: string | null = null;
    let audioMissing = 0;
    const setMeta = copy.prepare(
      'INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    );
    const recordings = copy
      .prepare<[], { id: number; path: string; fileName: string; checksum: string }>(
        'SELECT id, path, file_name AS fileName, checksum FROM recordings ORDER BY id',
      )
      .all();
    if (request.bundleAudio) {
      audioFolder = `${out}.audio`;
      fs.mkdirSync(audioFolder, { recursive: true });
    }
    const bundled: { id: number; path: string }[] = [];
    if (audioFolder) {
      for (const r of recordings) {
        if (!fs.existsSync(r.path)) {
          audioMissing++;
          continue;
        }
        const target = path.join(audioFolder, `${r.checksum.slice(0, 12)}-${r.fileName}`);
        if (!fs.existsSync(target)) fs.copyFileSync(r.path, target);
        bundled.push({ id: r.id, path: target });
      }
    }
    copy.transaction(() => {
      setMeta.run('project_id', projectId);
      setMeta.run(HANDOUT_META.origin, originId);
      setMeta.run(HANDOUT_META.at, new Date().toISOString());
      setMeta.run(HANDOUT_META.historySeq, String(seq));
      setMeta.run('name', `${store.name} (${annotator ? `copy for ${annotator}` : 'copy'})`);
      if (annotator) {
        setMeta.run('annotator', annotator);
        copy
          .prepare(`INSERT OR IGNORE INTO annotators (name, role, added_at) VALUES (?, 'annotator', ?)`)
          .run(annotator, new Date().toISOString());
      }
      const setPath = copy.prepare('UPDATE recordings SET path = ? WHERE id = ?');
      for (const b of bundled) setPath.run(b.path, b.id);
    })();
    const utterances = (
      copy.prepare('SELECT COUNT(*) AS n FROM utterances WHERE removed_at IS NULL').get() as { n: number }
    ).n;
    return {
      copy: out,
      projectId,
      originProjectId: originId,
      annotator,
      recordings: recordings.length,
      utterances,
      audioFolder,
      audioMissing,
    };
  } finally {
    copy.close();
  }
}

function readHistorySeq(file: string): number {
  const db = new Database(file, { readonly: true, nativeBinding: process.env.WAVFUSION_SQLITE_BINDING || undefined });
  try {
    return (db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM history').get() as { s: number }).s;
  } finally {
    db.close();
  }
}
