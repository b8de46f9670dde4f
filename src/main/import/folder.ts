import fs from 'node:fs/promises';
import path from 'node:path';
import { isAudioPath } from '../audio/decode';

export interface FolderItem {
  path: string;
  transcript: string;
  /** The sub-folder the file sits in, relative to the imported folder (a common per-speaker layout). */
  speaker: string | null;
}

/**
 * Lists audio files under a folder (recursively, sorted, hidden entries skipped) with their transcript
 * from a same-name .txt or .lab sidecar.
 */
export async function scanFolder(root: string): Promise<FolderItem[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
    .filter(
      (p) =>
        !path
          .relative(root, p)
          .split(path.sep)
          .some((part) => part.startsWith('.')),
    )
    .sort();
  const present = new Set(files);
  const items: FolderItem[] = [];
  for (const file of files) {
    if (!isAudioPath(file)) continue;
    const stem = file.slice(0, -path.extname(file).length);
    let transcript = '';
    for (const ext of ['.txt', '.lab']) {
      if (present.has(stem + ext)) {
        transcript = (await fs.readFile(stem + ext, 'utf8'))
          .replace(/^\uFEFF/, '')
          .replace(/\s+/g, ' ')
          .trim();
        break;
      }
    }
    const rel = path.relative(root, path.dirname(file));
    items.push({ path: file, transcript, speaker: rel ? rel.split(path.sep).join('/') : null });
  }
  return items;
}
