import type {
  Annotation,
  Prediction,
  StudioClient,
  UtteranceRow,
  Waveform,
  WaveformWindow,
} from '../../../../shared/contract';
import { HostUnreachableError } from '../api/api-error';
import { debounce } from '../util/debounce';
import { errorMessage } from '../util/format';
import type { ListState } from './list-state.svelte';
import type { Messages } from './messages.svelte';

/** The dimensional part of an annotation, as edited in the ratings panel. */
export interface Dimensions {
  valence: number | null;
  arousal: number | null;
  dominance: number | null;
  note: string;
}

export const DIMENSION_KEYS = ['valence', 'arousal', 'dominance'] as const;
export type DimensionKey = (typeof DIMENSION_KEYS)[number];

const EMPTY_DIMENSIONS: Dimensions = { valence: null, arousal: null, dominance: null, note: '' };
const SELECTION_SETTLE_MS = 60;
/** What became of a window asked for: shown, overtaken by a later ask (or selection), or failed (said why). */
export type WindowOutcome = 'shown' | 'superseded' | 'failed';

/** Seconds of the recording shown around the selected utterance. */
export const WAVEFORM_CONTEXT_S = 0.5;
/** J/K load the page this many rows ahead of the selection before they reach it. */
const PREFETCH_ROWS = 50;

/**
 * The selected utterance and what is loaded for it: its waveform, its ratings and note (this
 * annotator's), the active model's prediction. Moving on quickly (held J) loads only where it
 * settles; an answer for an earlier selection is dropped.
 */
export class SelectionState {
  #id = $state<number | null>(null);
  #waveform = $state.raw<Waveform | null>(null);
  #waveformError = $state<string | null>(null);
  #dimensions = $state<Dimensions>({ ...EMPTY_DIMENSIONS });
  #dimensionsFor = $state<number | null>(null);
  #prediction = $state.raw<Prediction | null>(null);
  #predictionFor = $state<number | null>(null);
  #predictionError = $state<string | null>(null);
  /** The window of the recording shown instead of the utterance with context (deep zoom), if any. */
  #window: WaveformWindow | null = null;
  #request = 0;
  #windowAsk = 0;
  readonly #index: number;
  readonly #row: UtteranceRow | null;

  readonly #loadSoon = debounce((id: number) => void this.#load(id), SELECTION_SETTLE_MS);

  constructor(
    private readonly client: StudioClient,
    private readonly list: ListState,
    private readonly messages: Messages,
    /** Before the selection moves away from an utterance (its note being typed goes out first). */
    private readonly beforeLeave: () => void = () => undefined,
  ) {
    // Derived (not getters): readers see a change only when the selected row itself changed.
    this.#index = $derived(this.#id === null ? -1 : (this.list.indexById.get(this.#id) ?? -1));
    this.#row = $derived(this.#index >= 0 ? (this.list.rowAt(this.#index) ?? null) : null);
  }

  get id(): number | null {
    return this.#id;
  }
  /** Its position in the list; -1 when nothing is selected or it is not listed. */
  get index(): number {
    return this.#index;
  }
  get row(): UtteranceRow | null {
    return this.#row;
  }
  get waveform(): Waveform | null {
    return this.#waveform;
  }
  get waveformError(): string | null {
    return this.#waveformError;
  }
  /** The ratings and note as edited (empty until loaded). */
  get dimensions(): Readonly<Dimensions> {
    return this.#dimensions;
  }
  /** Which utterance `dimensions` belongs to (null while it loads). */
  get dimensionsFor(): number | null {
    return this.#dimensionsFor;
  }
  /** The active model's prediction for the selected utterance (null: none yet, or still loading). */
  get prediction(): Prediction | null {
    return this.#prediction;
  }
  /** Which utterance `prediction` was loaded for (null while it loads). */
  get predictionFor(): number | null {
    return this.#predictionFor;
  }
  get predictionError(): string | null {
    return this.#predictionError;
  }

  select(id: number | null): void {
    if (id === this.#id) return;
    if (this.#id !== null) this.beforeLeave();
    this.#id = id;
    this.#window = null;
    this.#waveform = null;
    this.#waveformError = null;
    this.#dimensionsFor = null;
    this.#dimensions = { ...EMPTY_DIMENSIONS };
    this.#prediction = null;
    this.#predictionFor = null;
    this.#predictionError = null;
    this.#request++;
    if (id === null) this.#loadSoon.cancel();
    else this.#loadSoon(id);
  }

  /** Selects the first (`'first'`) or last row of the list; a row not loaded yet loads its page first. */
  selectEdge(edge: 'first' | 'last'): void {
    const count = this.list.matching;
    if (count === 0) return;
    this.#selectIndex(edge === 'first' ? 0 : count - 1);
  }

  /**
   * Moves `delta` rows (clamped to the list); from outside the list, from its start or end. A row not
   * loaded yet loads its page first (only that page); near a page's end the next one is asked for ahead.
   */
  selectOffset(delta: number): void {
    const count = this.list.matching;
    if (count === 0) return;
    const from = this.#index < 0 ? (delta > 0 ? -1 : count) : this.#index;
    const target = Math.min(count - 1, Math.max(0, from + delta));
    this.#selectIndex(target);
    const ahead = target + Math.sign(delta) * PREFETCH_ROWS;
    if (ahead >= 0 && ahead < count && !this.list.rowAt(ahead)) void this.list.loadIndex(ahead);
  }

  /** Selects the row at list index `index`, once its page is loaded (not when the selection moved meanwhile). */
  #selectIndex(index: number): void {
    const row = this.list.rowAt(index);
    if (row) {
      this.select(row.id);
      return;
    }
    const from = this.#id;
    void this.list.loadIndex(index).then((loaded) => {
      // Not when the list was replaced meanwhile or the selection moved on by itself.
      const now = this.list.rowAt(Math.min(index, this.list.matching - 1));
      if (loaded && now && this.#id === from) this.select(now.id);
    });
  }

  /**
   * After the list changed (`rows`: the loaded rows, in order): keeps the selection while it is listed
   * (unless `first`), else the first loaded row.
   */
  followList(rows: readonly UtteranceRow[], first: boolean): void {
    const keep = !first && this.#id !== null && rows.some((r) => r.id === this.#id);
    if (!keep) this.select(rows[0]?.id ?? null);
  }

  /** A rating or the note as edited here (saving is the caller's). */
  setDimension<K extends keyof Dimensions>(key: K, value: Dimensions[K]): void {
    this.#dimensions[key] = value;
  }

  /** Loads the selected utterance's waveform again (its span or its neighbours changed). */
  async reloadWaveform(): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    const request = this.#request;
    try {
      const waveform = await this.client.getWaveform(this.#waveformRequest(id));
      if (request === this.#request) this.#waveform = waveform;
    } catch {
      // Removed by the edit (the list moves the selection on), or offline (reloaded once back).
    }
  }

  /**
   * Shows `window` of the selected utterance's recording instead of the utterance with context (the
   * player's deep zoom into a long recording), or (null) the utterance again. The latest ask wins; a
   * failure keeps what is shown and says why.
   */
  async showWindow(window: WaveformWindow | null): Promise<WindowOutcome> {
    const id = this.#id;
    if (id === null) return 'failed';
    this.#window = window;
    const request = this.#request;
    const ask = ++this.#windowAsk;
    const latest = () => request === this.#request && ask === this.#windowAsk;
    try {
      const waveform = await this.client.getWaveform(this.#waveformRequest(id));
      if (!latest()) return 'superseded';
      this.#waveform = waveform;
      return 'shown';
    } catch (err) {
      if (!latest()) return 'superseded';
      this.#window = this.#waveform?.windowed ? { start: this.#waveform.clipStart, end: this.#waveform.clipEnd } : null;
      if (!(err instanceof HostUnreachableError))
        this.messages.showError(`Could not load that part of the recording: ${errorMessage(err)}`);
      return 'failed';
    }
  }

  #waveformRequest(id: number): { utteranceId: number; contextSeconds: number; window?: WaveformWindow } {
    return this.#window
      ? { utteranceId: id, contextSeconds: WAVEFORM_CONTEXT_S, window: this.#window }
      : { utteranceId: id, contextSeconds: WAVEFORM_CONTEXT_S };
  }

  /** Loads the selected utterance's prediction again (a model run or another active model). */
  async reloadPrediction(): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    const request = this.#request;
    const [result] = await Promise.allSettled([this.client.getPrediction({ utteranceId: id })]);
    if (request === this.#request && this.#id === id) this.#setPrediction(id, result);
  }

  /** Loads `id`'s ratings and note again (undo, another annotator), if it is still the selected one. */
  async reloadDimensions(id: number): Promise<void> {
    try {
      const annotation = await this.client.getAnnotation({ utteranceId: id });
      if (this.#id === id) this.#setDimensions(id, annotation);
    } catch (err) {
      this.messages.showError(`Could not load the ratings: ${errorMessage(err)}`);
    }
  }

  /** After a reconnect: loads again what the selection could not load while offline. */
  reloadIncomplete(): void {
    const id = this.#id;
    if (id !== null && (this.#dimensionsFor !== id || this.#waveformError !== null || this.#predictionError !== null)) {
      this.#request++;
      void this.#load(id);
    }
  }

  /** Stops a load waiting for the selection to settle. */
  dispose(): void {
    this.#loadSoon.cancel();
  }

  async #load(id: number): Promise<void> {
    const request = this.#request;
    const [waveform, annotation, prediction] = await Promise.allSettled([
      this.client.getWaveform(this.#waveformRequest(id)),
      this.client.getAnnotation({ utteranceId: id }),
      this.client.getPrediction({ utteranceId: id }),
    ]);
    if (request !== this.#request) return;
    this.#setPrediction(id, prediction);
    if (waveform.status === 'fulfilled') this.#waveform = waveform.value;
    else this.#waveformError = errorMessage(waveform.reason);
    if (annotation.status === 'fulfilled') this.#setDimensions(id, annotation.value);
    // Offline: the banner says so, and the selection reloads when the host is back.
    else if (!(annotation.reason instanceof HostUnreachableError))
      this.messages.showError(`Could not load the ratings: ${errorMessage(annotation.reason)}`);
  }

  #setPrediction(id: number, result: PromiseSettledResult<Prediction | null>): void {
    this.#prediction = result.status === 'fulfilled' ? result.value : null;
    this.#predictionError = result.status === 'rejected' ? errorMessage(result.reason) : null;
    this.#predictionFor = id;
  }

  #setDimensions(id: number, annotation: Annotation | null): void {
    this.#dimensions = annotation
      ? {
          valence: annotation.valence,
          arousal: annotation.arousal,
          dominance: annotation.dominance,
          note: annotation.note,
        }
      : { ...EMPTY_DIMENSIONS };
    this.#dimensionsFor = id;
  }
}
