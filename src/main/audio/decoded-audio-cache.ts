import { decodeAudioFile, type DecodedAudio } from './decode';

/**
 * Keeps the most recently decoded recordings in memory (bounded by sample bytes), so stepping through
 * the utterances of one long recording decodes it once.
 */
export class DecodedAudioCache {
  private readonly entries = new Map<string, Promise<DecodedAudio>>();
  private readonly sizes = new Map<string, number>();

  constructor(private readonly maxBytes = 512 * 1024 * 1024) {}

  get(file: string): Promise<DecodedAudio> {
    const hit = this.entries.get(file);
    if (hit) {
      this.entries.delete(file);
      this.entries.set(file, hit);
      return hit;
    }
    const pending = decodeAudioFile(file);
    this.entries.set(file, pending);
    pending.then(
      (audio) => {
        this.sizes.set(
          file,
          audio.channels.reduce((n, c) => n + c.byteLength, 0),
        );
        this.evict(file);
      },
      () => this.entries.delete(file),
    );
    return pending;
  }

  private evict(keep: string): void {
    let total = [...this.sizes.values()].reduce((a, b) => a + b, 0);
    for (const key of this.entries.keys()) {
      if (total <= this.maxBytes) break;
      if (key === keep) continue;
      total -= this.sizes.get(key) ?? 0;
      this.entries.delete(key);
      this.sizes.delete(key);
    }
  }
}
