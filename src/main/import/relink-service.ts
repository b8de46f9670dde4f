import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RelinkReport } from '../../shared/contract';
import { isAudioPath } from '../audio/decode';
import type { StudioEvents } from '../events';
import type { JobContext } from '../jobs/job-runner';
import type { ProjectStore } from '../project/project-store';
import { walkFolder } from './folder';

/**
 * Finds moved recordings: files under `folder` with the size and SHA-256 of a missing recording take
 * its place. Annotations stay attached, since they hang off the recording, not its path.
 */
export class RelinkService {
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents,
  ) {}

  /** Relinks what it can; the recordings found again are announced once, even if it stopped early. */
  async relink(folder: string, ctx: JobContext): Promise<RelinkReport> {
    const counter = { relinked: 0 };
    try {
      return await this.relinkFrom(folder, ctx, counter);
    } finally {
      if (counter.relinked > 0) this.events.emit('utterancesChanged', { change: 'relinked', count: counter.relinked });
    }
  }

  private async relinkFrom(folder: string, ctx: JobContext, counter: { relinked: number }): Promise<RelinkReport> {
    const { store } = this;
    store.refreshMissing();
    const missing = store.recordings.list().filter((r) => store.missingRecordings.has(r.id));
    const bySize = new Map<number, typeof missing>();
    for (const r of missing) bySize.set(r.sizeBytes, [...(bySize.get(r.sizeBytes) ?? []), r]);
    // Symbolic links to audio count (walkFolder follows them); unreadable entries are skipped.
    const candidates = (await walkFolder(path.resolve(folder))).files.filter((f) => isAudioPath(f));
    let done = 0;
    for (const file of candidates) {
      if (ctx.signal.aborted) break;
      ctx.progress(done++, candidates.length, path.basename(file));
      let size: number;
      try {
        size = (await fs.stat(file)).size;
      } catch {
        continue; // gone or unreadable: not a candidate
      }
      const sameSize = bySize.get(size)?.filter((r) => store.missingRecordings.has(r.id));
      if (!sameSize?.length) continue;
      let checksum: string;
      try {
        checksum = createHash('sha256')
          .update(await fs.readFile(file))
          .digest('hex');
      } catch {
        continue;
      }
      const match = sameSize.find((r) => r.checksum === checksum);
      if (!match || store.recordings.byPath(file)) continue;
      store.recordings.relink(match.id, file);
      store.missingRecordings.delete(match.id);
      counter.relinked++;
    }
    ctx.progress(candidates.length, candidates.length);
    const stillMissing = missing.filter((r) => store.missingRecordings.has(r.id)).map((r) => r.path);
    return { relinked: counter.relinked, stillMissing };
  }
}
