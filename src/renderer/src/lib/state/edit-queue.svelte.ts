import { SvelteMap } from 'svelte/reactivity';
import type { StudioClient, UtteranceRow } from '../../../../shared/contract';
import { ApiError, HostUnreachableError } from '../api/api-error';
import { errorMessage } from '../util/format';
import { EditTracker } from './edit-tracker';
import type { ListState } from './list-state.svelte';
import type { Messages } from './messages.svelte';

/** Where one utterance's latest edit stands. */
export type SaveState = { state: 'saving' } | { state: 'saved' } | { state: 'error'; message: string };

/**
 * The user's edits, sent one after another in the order they were made. A row edit shows at once
 * (optimistic), then what the core saved, or goes back to the last confirmed row with the core's
 * message. An edit the host did not receive (unreachable) is kept and sent again once it is back,
 * in order, unless the host came back with another project open; steps that must not run twice
 * (undo, redo, segment edits) are never resent.
 */
export class EditQueue {
  #pending = $state(0);
  /** A note typed but not sent yet (it goes after a pause in typing). */
  #typing = $state(false);
  readonly #saveStates = new SvelteMap<number, SaveState>();
  readonly #tracker = new EditTracker();
  #queue: Promise<unknown> = Promise.resolve();
  /** After a reconnect: null while the kept edits may go out, else the other project's path. */
  #projectCheck: Promise<string | null> = Promise.resolve(null);

  #summary = $derived.by((): SaveState | null => {
    if (this.#pending > 0 || this.#typing) return { state: 'saving' };
    if (this.messages.error) return { state: 'error', message: this.messages.error };
    return this.#saveStates.size > 0 ? { state: 'saved' } : null;
  });

  constructor(
    private readonly client: StudioClient,
    private readonly list: ListState,
    private readonly messages: Messages,
    /** After each edit settles (the project's counts may have changed). */
    private readonly onSettled: () => void = () => undefined,
  ) {}

  /** Edits sent and not answered yet. */
  get pending(): number {
    return this.#pending;
  }
  /** Edits made and not yet saved (while offline: those kept in this page), a note being typed included. */
  get unsaved(): number {
    return this.#pending + (this.#typing ? 1 : 0);
  }
  /** The status bar's word: saving, the latest error, saved (once anything was), or nothing yet. */
  get saveSummary(): SaveState | null {
    return this.#summary;
  }

  /** Where each edited utterance's latest edit stands. */
  get saveStates(): ReadonlyMap<number, SaveState> {
    return this.#saveStates;
  }

  /** A row with an edit in flight: its response, not an event, settles it. */
  isPending(id: number): boolean {
    return this.#tracker.isPending(id);
  }

  /** A note is being typed for `id` (true) or was handed over to be sent or dropped (false). */
  setTyping(id: number | null): void {
    this.#typing = id !== null;
    if (id !== null) this.#saveStates.set(id, { state: 'saving' });
  }

  /** A step the core did elsewhere (undo, redo) left `id` as saved. */
  markSaved(id: number): void {
    this.#saveStates.set(id, { state: 'saved' });
  }

  /**
   * One edit of a listed row: shows `optimistic` at once, marks the utterance as saving, sends the
   * request in order after earlier edits, then shows what the core saved, or reverts and reports the
   * core's message.
   */
  async edit(
    before: UtteranceRow,
    optimistic: UtteranceRow,
    send: () => Promise<{ row: UtteranceRow }>,
    what = 'label',
  ): Promise<void> {
    const id = before.id;
    const seq = this.#tracker.begin(before);
    this.#pending++;
    this.list.replaceRow(optimistic);
    this.#saveStates.set(id, { state: 'saving' });
    try {
      const { row } = await this.#enqueue(send);
      this.#tracker.confirm(row);
      if (this.#tracker.isLatest(id, seq)) {
        this.list.replaceRow(row);
        this.#saveStates.set(id, { state: 'saved' });
      }
    } catch (err) {
      const message = errorMessage(err);
      if (this.#tracker.isLatest(id, seq)) {
        const revert = this.#tracker.confirmed(id);
        if (revert) this.list.replaceRow(revert);
        this.#saveStates.set(id, { state: 'error', message });
      }
      this.messages.showError(`Could not save the ${what} of ${before.recordingName}: ${message}`);
    } finally {
      this.#tracker.end(id);
      this.#pending--;
      this.onSettled();
    }
  }

  /** An edit of an utterance that is not listed (filtered out meanwhile): saved, with no row to show. */
  async editUnlisted(utteranceId: number, send: () => Promise<unknown>, what: string): Promise<void> {
    this.#pending++;
    try {
      await this.#enqueue(send);
      this.#saveStates.set(utteranceId, { state: 'saved' });
    } catch (err) {
      this.#saveStates.set(utteranceId, { state: 'error', message: errorMessage(err) });
      this.messages.showError(`Could not save the ${what}: ${errorMessage(err)}`);
    } finally {
      this.#pending--;
    }
  }

  /**
   * A step sent in order after earlier edits and never sent twice (the host may have done it before
   * the connection broke); counted as saving until answered. Rejects with the core's error.
   */
  async sendOnce<T>(send: () => Promise<T>): Promise<T> {
    this.#pending++;
    try {
      return await this.#enqueue(send, { resend: false });
    } finally {
      this.#pending--;
      this.onSettled();
    }
  }

  /**
   * A segment edit (commit, create, resize, split, merge, delete): `sendOnce`, with `optimistic` shown
   * at once and put back on failure. Null when it failed (said in the banner).
   */
  async editSegments<T>(what: string, send: () => Promise<T>, optimistic?: UtteranceRow): Promise<T | null> {
    const before = optimistic ? this.list.rowById(optimistic.id) : null;
    if (optimistic) this.list.replaceRow(optimistic);
    try {
      return await this.sendOnce(send);
    } catch (err) {
      if (before) this.list.replaceRow(before);
      this.messages.showError(`Could not ${what}: ${errorMessage(err)}`);
      return null;
    }
  }

  /** Resolves once every edit made so far has been answered (or dropped). */
  async settle(): Promise<void> {
    await this.#enqueue(() => Promise.resolve(), { resend: false });
  }

  /**
   * The host is back. Before a kept edit goes out: does the host still have `path` open? If not,
   * each kept edit fails with that reason. Resolves once the kept edits went out (or failed); from
   * then on edits go to whatever the host has open.
   */
  async reconnected(path: string | undefined): Promise<void> {
    this.#projectCheck = this.#sameProject(path);
    await this.settle();
    this.#projectCheck = Promise.resolve(null);
  }

  #enqueue<T>(fn: () => Promise<T>, { resend = true }: { resend?: boolean } = {}): Promise<T> {
    const attempt = resend ? () => this.#sendKept(fn) : fn;
    const result = this.#queue.then(attempt, attempt);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #sendKept<T>(fn: () => Promise<T>): Promise<T> {
    const connection = this.client.connection;
    for (;;) {
      const project = await this.#projectCheck;
      if (project !== null)
        throw new ApiError({
          code: 'conflict',
          message: `the studio host came back with another project open (${project}), so this edit was not sent`,
        });
      try {
        return await fn();
      } catch (err) {
        // Edits are settings (this label, these ratings): sending one twice leaves the same result.
        if (!connection || !(err instanceof HostUnreachableError)) throw err;
        await connection.whenOnline();
      }
    }
  }

  /** Null when the host has `path` open (or nothing is known to compare), else the path it has. */
  async #sameProject(path: string | undefined): Promise<string | null> {
    for (;;) {
      try {
        const info = await this.client.getProjectInfo({});
        return path === undefined || info.path === path ? null : info.path;
      } catch (err) {
        if (!(err instanceof HostUnreachableError) || !this.client.connection) return null;
        await this.client.connection.whenOnline();
      }
    }
  }
}
