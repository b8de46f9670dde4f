import type { UtteranceRow } from '../../../../shared/contract';

/**
 * Bookkeeping for edits in flight, per utterance: which edit is the latest (only its response may
 * update the row), how many are pending, and the last row the core confirmed (what an error
 * reverts to). Not reactive: the state class shows the results.
 */
export class EditTracker {
  private seq = 0;
  private readonly latest = new Map<number, number>();
  private readonly pending = new Map<number, number>();
  private readonly confirmedRows = new Map<number, UtteranceRow>();

  /** Starts an edit of `before.id`; returns its sequence number. */
  begin(before: UtteranceRow): number {
    const id = before.id;
    const seq = ++this.seq;
    this.latest.set(id, seq);
    if (!this.pending.get(id)) this.confirmedRows.set(id, before);
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    return seq;
  }

  isLatest(id: number, seq: number): boolean {
    return this.latest.get(id) === seq;
  }

  isPending(id: number): boolean {
    return (this.pending.get(id) ?? 0) > 0;
  }

  confirm(row: UtteranceRow): void {
    this.confirmedRows.set(row.id, row);
  }

  confirmed(id: number): UtteranceRow | undefined {
    return this.confirmedRows.get(id);
  }

  end(id: number): void {
    const left = (this.pending.get(id) ?? 1) - 1;
    if (left > 0) this.pending.set(id, left);
    else {
      this.pending.delete(id);
      this.confirmedRows.delete(id);
    }
  }
}
