import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { isAudioPath } from '../audio/decode';
import { describeError } from '../errors';

export interface FolderItem {
  path: string;
  transcript: string;
  /** The sub-folder the file sits in, relative to the imported folder (a common per-speaker layout). */
  speaker: string | null;
}

/** An entry that is not imported, with why (for the import report). */
export interface FolderProblem {
  path: string;
  reason: string;
}

/**
 * Lists audio files under a folder (recursively, sorted, hidden entries skipped) with their transcript
 * from a same-name .txt or .lab sidecar. Symbolic links are followed (git-annex, DVC and the Hugging
 * Face cache keep audio behind them), each real folder scanned once. Nothing aborts the scan: an
 * unreadable sub-folder or transcript, a looped or dangling link, a folder named like audio, or
 * something that is not a file is listed in `problems` with its reason, and the rest comes back.
 */
export async function scanFolder(root: string): Promise<{ items: FolderItem[]; problems: FolderProblem[] }> {
  const { files, problems } = await walkFolder(root);
  const present = new Set(files);
  const items: FolderItem[] = [];
  for (const file of files) {
    if (!isAudioPath(file)) continue;
    const stem = file.slice(0, -path.extname(file).length);
    let transcript = '';
    for (const ext of ['.txt', '.lab']) {
      if (!present.has(stem + ext)) continue;
      try {
        transcript = (await fs.readFile(stem + ext, 'utf8'))
          .replace(/^\uFEFF/, '')
          .replace(/\s+/g, ' ')
          .trim();
      } catch (err) {
        // The audio is imported without it; importing again once it is readable fills the transcript in.
        problems.push({ path: stem + ext, reason: `cannot read transcript: ${describeError(err)}` });
      }
      break;
    }
    const rel = path.relative(root, path.dirname(file));
    items.push({ path: file, transcript, speaker: rel ? rel.split(path.sep).join('/') : null });
  }
  return { items, problems };
}

/**
 * Every file under `root` (sorted; hidden entries skipped; symbolic links followed, each real folder
 * once), and every entry that could not be listed or followed, with why.
 */
export async function walkFolder(root: string): Promise<{ files: string[]; problems: FolderProblem[] }> {
  const problems: FolderProblem[] = [];
  const files: string[] = [];
  const visited = new Set<string>();

  const walk = async (dir: string, real: string): Promise<void> => {
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      problems.push({ path: dir, reason: `cannot read folder: ${describeError(err)}` });
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const full = path.join(dir, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      let target = full;
      if (e.isSymbolicLink()) {
        try {
          target = await fs.realpath(full);
          const stat = await fs.stat(target);
          isDir = stat.isDirectory();
          isFile = stat.isFile();
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') problems.push({ path: full, reason: 'symbolic link loop (it points back to itself)' });
          else if (code === 'ENOENT')
            problems.push({ path: full, reason: 'dangling symbolic link: its target does not exist' });
          else problems.push({ path: full, reason: `cannot follow symbolic link: ${describeError(err)}` });
          continue;
        }
      }
      if (isDir) {
        if (isAudioPath(e.name))
          problems.push({ path: full, reason: 'is a folder, not an audio file (its contents are scanned)' });
        const real = e.isSymbolicLink() ? target : await fs.realpath(full).catch(() => full);
        if (visited.has(real)) {
          problems.push({ path: full, reason: `symbolic link loop: ${real} is already being scanned` });
          continue;
        }
        await walk(full, real);
      } else if (isFile) files.push(full);
      else if (isAudioPath(e.name))
        problems.push({ path: full, reason: 'not a regular file (a device, socket or pipe)' });
    }
  };
  await walk(root, await fs.realpath(root).catch(() => root));

  files.sort();
  return { files, problems };
}
