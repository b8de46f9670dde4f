import { SvelteMap } from 'svelte/reactivity';
import {
  UtteranceFilter as UtteranceFilterSchema,
  type Annotation,
  type Label,
  type Prediction,
  type ProjectInfo,
  type StudioClient,
  type UtteranceFilter,
  type UtteranceRow,
  type Waveform,
} from '../../../../shared/contract';
import { ApiError, HostUnreachableError } from '../api/api-error';
import { mapBy } from '../util/collections';
import { debounce } from '../util/debounce';
import { errorMessage } from '../util/format';
import { EditTracker } from './edit-tracker';
import { JobsState } from './jobs.svelte';
import { ModelsState, type RunOptions } from './models.svelte';

/** Where one utterance's latest edit stands. */
export type SaveState = { state: 'saving' } | { state: 'saved' } | { state: 'error'; message: string };

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
const AUTO_ADVANCE_KEY = 'wavfusion.autoAdvance';
const SEARCH_DEBOUNCE_MS = 250;
const NOTE_DEBOUNCE_MS = 600;
const SELECTION_SETTLE_MS = 60;

/**
 * The annotation view's state: project, labels, the filtered utterance list, selection, the selected
 * utterance's waveform and dimensions, save state and jobs. Components read it and call its methods;
 * only this class (and JobsState) talks to the StudioClient.
 */
export class StudioState {
  info = $state.raw<ProjectInfo | null>(null);
  labels = $state.raw<Label[]>([]);
  rows = $state.raw<UtteranceRow[]>([]);
  /** Utterances in the project, whatever the filter. */
  total = $state(0);
  filter = $state<UtteranceFilter>(defaultFilter());
  /** The search box's text; `filter.search` follows it after a pause in typing. */
  searchText = $state('');
  loading = $state(true);
  loadError = $state<string | null>(null);
  selectedId = $state<number | null>(null);
  autoAdvance = $state(readAutoAdvance());

  waveform = $state.raw<Waveform | null>(null);
  waveformError = $state<string | null>(null);
  dimensions = $state<Dimensions>({ ...EMPTY_DIMENSIONS });
  /** Which utterance `dimensions` belongs to (null while it loads). */
  dimensionsFor = $state<number | null>(null);
  /** The active model's prediction for the selected utterance (null: none yet, or still loading). */
  prediction = $state.raw<Prediction | null>(null);
  /** Which utterance `prediction` was loaded for (null while it loads). */
  predictionFor = $state<number | null>(null);
  predictionError = $state<string | null>(null);

  readonly saveStates = new SvelteMap<number, SaveState>();
  /** The latest error to show in the banner, until dismissed or superseded. */
  error = $state<string | null>(null);
  /** A passing remark for the status bar ("Nothing to undo"). */
  notice = $state<string | null>(null);
  pendingSaves = $state(0);
  /** A note typed but not sent yet (it goes after a pause in typing). */
  notePending = $state(false);
  /**
   * False while the host cannot be reached (web mode: it stopped or restarts). Edits made meanwhile
   * are kept here, in order, and sent when it is back; then everything is reloaded.
   */
  online = $state(true);
  /** Edits made and not yet saved (while offline: those kept in this page). */
  unsaved = $derived(this.pendingSaves + (this.notePending ? 1 : 0));

  readonly jobs: JobsState;
  readonly models: ModelsState;

  labelsById = $derived(mapBy(this.labels, (l) => l.id));
  labelsByHotkey = $derived(
    mapBy(
      this.labels.filter((l) => l.hotkey),
      (l) => l.hotkey!,
    ),
  );
  indexById = $derived(
    mapBy(
      this.rows,
      (r) => r.id,
      (_, i) => i,
    ),
  );
  selectedIndex = $derived(this.selectedId === null ? -1 : (this.indexById.get(this.selectedId) ?? -1));
  selectedRow = $derived(this.selectedIndex >= 0 ? this.rows[this.selectedIndex]! : null);
  filtered = $derived(
    this.filter.status !== 'all' ||
      this.filter.labelId !== null ||
      this.filter.speaker !== null ||
      this.filter.maxConfidence !== null ||
      this.filter.predictedLabelId !== null ||
      this.filter.disagreement ||
      this.filter.missing ||
      this.filter.unsure ||
      this.filter.search.trim() !== '',
  );
  saveSummary = $derived.by((): SaveState | null => {
    if (this.pendingSaves > 0 || this.notePending) return { state: 'saving' };
    if (this.error) return { state: 'error', message: this.error };
    return this.saveStates.size > 0 ? { state: 'saved' } : null;
  });

  private queue: Promise<unknown> = Promise.resolve();
  private rowsRequest = 0;
  private selectionRequest = 0;
  private readonly edits = new EditTracker();
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly applySearch = debounce((text: string) => {
    this.filter.search = text;
    void this.loadRows();
  }, SEARCH_DEBOUNCE_MS);
  private readonly saveNote = debounce((utteranceId: number) => {
    this.notePending = false;
    void this.saveDimensions(utteranceId);
  }, NOTE_DEBOUNCE_MS);
  private readonly loadSelection = debounce((id: number) => void this.loadSelected(id), SELECTION_SETTLE_MS);
  private readonly refreshInfoSoon = debounce(() => void this.refreshInfo(), 300);

  constructor(readonly client: StudioClient) {
    this.jobs = new JobsState(client);
    this.models = new ModelsState(client, this.jobs);
  }

  /** Loads the project and subscribes to the core's events; returns the unsubscribe. */
  connect(): () => void {
    const offs = [
      // The one refresh path: each change the core announces reloads only what it changed, once.
      this.client.on('labelsChanged', (labels) => {
        this.labels = labels;
      }),
      this.client.on('utterancesChanged', ({ change }) => {
        void this.loadRows();
        this.refreshInfoSoon();
        // A segment edit may have moved the selected utterance or its neighbours: redraw its waveform.
        if (change === 'segments') void this.reloadWaveform();
      }),
      this.client.on('modelsChanged', (models) => {
        this.models.models = models;
        this.refreshInfoSoon();
      }),
      this.client.on('predictionsChanged', () => {
        void this.loadRows();
        this.refreshInfoSoon();
        if (this.selectedId !== null) void this.reloadPrediction(this.selectedId);
      }),
      this.client.on('annotationChanged', ({ row }) => {
        // Our own edits come back here too; rows with edits in flight are settled by their responses.
        if (!this.edits.isPending(row.id)) this.replaceRow(row);
      }),
      // Another project was opened (from this window or another): start over on it; a rename: the name.
      this.client.on('projectOpened', ({ info, reason }) => {
        this.info = info;
        if (reason !== 'renamed') void this.startOver();
      }),
      this.jobs.connect(),
      this.client.connection?.onChange((online) => {
        this.online = online;
        if (!online) return;
        // Before a kept edit goes out: is it still the project it was made in?
        this.projectCheck = this.sameProject(this.info?.path);
        void this.afterReconnect();
      }) ?? (() => undefined),
    ];
    // Leaving the page sends a note still waiting for its pause in typing.
    const flush = () => this.saveNote.flush();
    window.addEventListener('pagehide', flush);
    void this.load();
    return () => {
      window.removeEventListener('pagehide', flush);
      for (const off of offs) off();
      this.applySearch.cancel();
      this.saveNote.flush();
      this.loadSelection.cancel();
      this.refreshInfoSoon.cancel();
      if (this.noticeTimer) clearTimeout(this.noticeTimer);
    };
  }

  /** Before this window opens another project: the note being typed and every edit in flight are sent. */
  async settle(): Promise<void> {
    this.saveNote.flush();
    await this.enqueue(() => Promise.resolve(), { resend: false });
  }

  /** The host opened another project: what is shown is that project's, from its first utterance. */
  private async startOver(): Promise<void> {
    // A note typed here for the old project must not land on the new project's utterance of that id.
    this.saveNote.cancel();
    this.notePending = false;
    this.applySearch.cancel();
    this.select(null);
    this.searchText = '';
    this.filter = defaultFilter();
    this.rows = [];
    this.labelUses = null;
    await this.load();
    void this.jobs.refresh();
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      await Promise.all([this.refreshInfo(), this.loadLabels(), this.loadRows()]);
      this.loadError = null;
      void this.loadModels();
    } catch (err) {
      this.loadError = errorMessage(err);
    } finally {
      this.loading = false;
    }
  }

  async refreshInfo(): Promise<void> {
    this.info = await this.client.getProjectInfo({});
  }

  async loadLabels(): Promise<void> {
    this.labels = await this.client.listLabels({});
  }

  /**
   * Reloads the list for the current filter, keeping the selection when it is still listed (or, with
   * `selectFirst`, moving it to the first row: a new order starts from its top).
   */
  async loadRows(options: { selectFirst?: boolean } = {}): Promise<void> {
    const request = ++this.rowsRequest;
    const filter = $state.snapshot(this.filter);
    try {
      const { rows, total } = await this.client.listUtterances(filter);
      if (request !== this.rowsRequest) return;
      this.saveNote.flush(); // while its row is still listed
      this.rows = rows;
      this.total = total;
      this.loadError = null;
      const keep = !options.selectFirst && this.selectedId !== null && rows.some((r) => r.id === this.selectedId);
      if (!keep) this.select(rows[0]?.id ?? null);
    } catch (err) {
      if (request === this.rowsRequest) this.loadError = errorMessage(err);
    } finally {
      if (request === this.rowsRequest) this.loading = false;
    }
  }

  // ---------- filter ----------

  setSearch(text: string): void {
    this.searchText = text;
    this.applySearch(text);
  }

  /** Clears the search at once (Escape in the search box): the text and the filter it set. */
  clearSearch(): void {
    this.applySearch.cancel();
    this.searchText = '';
    if (this.filter.search === '') return;
    this.filter.search = '';
    void this.loadRows();
  }

  setFilter(change: Partial<Omit<UtteranceFilter, 'search'>>): void {
    const reordered = change.sort !== undefined && change.sort !== this.filter.sort;
    Object.assign(this.filter, change);
    void this.loadRows({ selectFirst: reordered });
  }

  clearFilters(): void {
    this.applySearch.cancel();
    this.searchText = '';
    this.filter = defaultFilter();
    void this.loadRows();
  }

  // ---------- selection ----------

  select(id: number | null): void {
    if (id === this.selectedId) return;
    if (this.selectedId !== null && this.saveNote.pending) this.saveNote.flush();
    this.selectedId = id;
    this.waveform = null;
    this.waveformError = null;
    this.dimensionsFor = null;
    this.dimensions = { ...EMPTY_DIMENSIONS };
    this.prediction = null;
    this.predictionFor = null;
    this.predictionError = null;
    this.selectionRequest++;
    if (id === null) this.loadSelection.cancel();
    else this.loadSelection(id);
  }

  /** Selects the first (`'first'`) or last row of the list. */
  selectEdge(edge: 'first' | 'last'): void {
    if (this.rows.length === 0) return;
    this.select(this.rows[edge === 'first' ? 0 : this.rows.length - 1]!.id);
  }

  selectOffset(delta: number): void {
    if (this.rows.length === 0) return;
    const from = this.selectedIndex < 0 ? (delta > 0 ? -1 : this.rows.length) : this.selectedIndex;
    const to = Math.min(this.rows.length - 1, Math.max(0, from + delta));
    this.select(this.rows[to]!.id);
  }

  private async loadSelected(id: number): Promise<void> {
    const request = this.selectionRequest;
    const [waveform, annotation, prediction] = await Promise.allSettled([
      this.client.getWaveform({ utteranceId: id, contextSeconds: 0.5 }),
      this.client.getAnnotation({ utteranceId: id }),
      this.client.getPrediction({ utteranceId: id }),
    ]);
    if (request !== this.selectionRequest) return;
    this.setPredictionFrom(id, prediction);
    if (waveform.status === 'fulfilled') this.waveform = waveform.value;
    else this.waveformError = errorMessage(waveform.reason);
    if (annotation.status === 'fulfilled') this.setDimensionsFrom(id, annotation.value);
    // Offline: the banner says so, and the selection reloads when the host is back.
    else if (!(annotation.reason instanceof HostUnreachableError))
      this.showError(`Could not load the ratings: ${errorMessage(annotation.reason)}`);
  }

  /** Loads the selected utterance's waveform again (its span or its neighbours changed). */
  private async reloadWaveform(): Promise<void> {
    const id = this.selectedId;
    if (id === null) return;
    const request = this.selectionRequest;
    try {
      const waveform = await this.client.getWaveform({ utteranceId: id, contextSeconds: 0.5 });
      if (request === this.selectionRequest) this.waveform = waveform;
    } catch {
      // Removed by the edit (the list moves the selection on), or offline (reloaded once back).
    }
  }

  private setPredictionFrom(id: number, result: PromiseSettledResult<Prediction | null>): void {
    this.prediction = result.status === 'fulfilled' ? result.value : null;
    this.predictionError = result.status === 'rejected' ? errorMessage(result.reason) : null;
    this.predictionFor = id;
  }

  private async reloadPrediction(id: number): Promise<void> {
    const request = this.selectionRequest;
    const [result] = await Promise.allSettled([this.client.getPrediction({ utteranceId: id })]);
    if (request === this.selectionRequest && this.selectedId === id) this.setPredictionFrom(id, result);
  }

  private setDimensionsFrom(id: number, annotation: Annotation | null): void {
    this.dimensions = annotation
      ? {
          valence: annotation.valence,
          arousal: annotation.arousal,
          dominance: annotation.dominance,
          note: annotation.note,
        }
      : { ...EMPTY_DIMENSIONS };
    this.dimensionsFor = id;
  }

  // ---------- labelling ----------

  setAutoAdvance(on: boolean): void {
    this.autoAdvance = on;
    try {
      localStorage.setItem(AUTO_ADVANCE_KEY, on ? '1' : '0');
    } catch {
      // Storage may be unavailable; the toggle still works for this session.
    }
  }

  labelByHotkey(hotkey: string): void {
    const label = this.labelsByHotkey.get(hotkey);
    if (label) void this.setLabel(label.id);
  }

  /** Sets (or, with null, clears) the selected utterance's label; advances when asked to. */
  async setLabel(labelId: number | null): Promise<void> {
    const row = this.selectedRow;
    if (!row) return;
    const annotator = this.info?.annotator ?? null;
    if (labelId !== null && this.autoAdvance) this.selectOffset(1);
    if (row.labelId === labelId && !this.edits.isPending(row.id)) return;
    await this.edit(row, { ...row, labelId, annotator: labelId === null ? null : annotator }, () =>
      this.client.setLabel({ utteranceId: row.id, labelId }),
    );
  }

  /**
   * Takes the active model's prediction as the selected utterance's label (Enter): one undoable
   * edit; advances when auto-advance is on, as a label key does.
   */
  async acceptPrediction(): Promise<void> {
    const row = this.selectedRow;
    if (!row) return;
    const predicted = row.prediction;
    if (!predicted) {
      this.showNotice('No prediction for this utterance yet: run the model first');
      return;
    }
    if (this.autoAdvance) this.selectOffset(1);
    if (predicted.labelId !== null && row.labelId === predicted.labelId && !this.edits.isPending(row.id)) return;
    const annotator = this.info?.annotator ?? null;
    const optimistic = predicted.labelId === null ? row : { ...row, labelId: predicted.labelId, annotator };
    await this.edit(row, optimistic, () => this.client.acceptPrediction({ utteranceId: row.id }), 'accepted label');
  }

  /** Flags the selected utterance "unsure / skip", or clears the flag (U): one undoable edit, no advance. */
  async toggleUnsure(): Promise<void> {
    const row = this.selectedRow;
    if (!row) return;
    const unsure = !row.unsure;
    await this.edit(
      row,
      { ...row, unsure },
      () => this.client.setUnsure({ utteranceId: row.id, unsure }),
      'unsure flag',
    );
  }

  /**
   * Saves a transcript and/or speaker edited in place (one undoable step in the core); a field left out
   * stays, a blank speaker is none.
   */
  async setText(utteranceId: number, change: { transcript?: string; speaker?: string | null }): Promise<void> {
    const row = this.rowById(utteranceId);
    if (!row) return;
    const transcript = change.transcript?.replace(/\r\n?/g, '\n').trim() ?? row.transcript;
    const speaker = change.speaker === undefined ? row.speaker : change.speaker?.trim() || null;
    if (transcript === row.transcript && speaker === row.speaker) return;
    await this.edit(
      row,
      { ...row, transcript, speaker },
      () => this.client.setUtteranceText({ utteranceId, ...change }),
      change.transcript === undefined ? 'speaker' : 'transcript',
    );
  }

  setDimension(key: DimensionKey, value: number | null): void {
    const id = this.dimensionsFor;
    if (id === null) return;
    this.dimensions[key] = value;
    void this.saveDimensions(id);
  }

  setNote(note: string): void {
    const id = this.dimensionsFor;
    if (id === null) return;
    this.dimensions.note = note;
    this.notePending = true;
    this.saveStates.set(id, { state: 'saving' });
    this.saveNote(id);
  }

  flushNote(): void {
    this.saveNote.flush();
  }

  private async saveDimensions(utteranceId: number): Promise<void> {
    if (this.dimensionsFor !== utteranceId) return;
    const dims = $state.snapshot(this.dimensions);
    const send = () => this.client.setDimensions({ utteranceId, ...dims });
    const row = this.rowById(utteranceId);
    if (row) {
      await this.edit(row, row, send, 'ratings');
      return;
    }
    // Filtered out of the list meanwhile: save anyway, just without a row to update.
    this.pendingSaves++;
    try {
      await this.enqueue(send);
      this.saveStates.set(utteranceId, { state: 'saved' });
    } catch (err) {
      this.saveStates.set(utteranceId, { state: 'error', message: errorMessage(err) });
      this.showError(`Could not save the ratings: ${errorMessage(err)}`);
    } finally {
      this.pendingSaves--;
    }
  }

  /**
   * One edit: shows `optimistic` at once, marks the utterance as saving, sends the request in order
   * after earlier edits, then shows what the core saved, or reverts and reports the core's message.
   */
  private async edit(
    before: UtteranceRow,
    optimistic: UtteranceRow,
    send: () => Promise<{ row: UtteranceRow }>,
    what = 'label',
  ): Promise<void> {
    const id = before.id;
    const seq = this.edits.begin(before);
    this.pendingSaves++;
    this.replaceRow(optimistic);
    this.saveStates.set(id, { state: 'saving' });
    try {
      const { row } = await this.enqueue(send);
      this.edits.confirm(row);
      if (this.edits.isLatest(id, seq)) {
        this.replaceRow(row);
        this.saveStates.set(id, { state: 'saved' });
      }
    } catch (err) {
      const message = errorMessage(err);
      if (this.edits.isLatest(id, seq)) {
        const revert = this.edits.confirmed(id);
        if (revert) this.replaceRow(revert);
        this.saveStates.set(id, { state: 'error', message });
      }
      this.showError(`Could not save the ${what} of ${before.recordingName}: ${message}`);
      // Ratings and the note stay as typed (marked "Not saved"): the next edit sends them again.
    } finally {
      this.edits.end(id);
      this.pendingSaves--;
      this.refreshInfoSoon();
    }
  }

  /**
   * A segment edit (commit, create, resize, split, merge, delete): sent in order after earlier edits
   * and never sent twice (a second split is not the first one again); `optimistic` shows the row at
   * once. The list and the waveform follow the core's event. Null when it failed (said in the banner).
   */
  async editSegments<T>(what: string, send: () => Promise<T>, optimistic?: UtteranceRow): Promise<T | null> {
    this.saveNote.flush();
    this.pendingSaves++;
    const before = optimistic ? this.rowById(optimistic.id) : null;
    if (optimistic) this.replaceRow(optimistic);
    try {
      return await this.enqueue(send, { resend: false });
    } catch (err) {
      if (before) this.replaceRow(before);
      this.showError(`Could not ${what}: ${errorMessage(err)}`);
      return null;
    } finally {
      this.pendingSaves--;
      this.refreshInfoSoon();
    }
  }

  async undo(): Promise<void> {
    await this.history('undo');
  }

  async redo(): Promise<void> {
    await this.history('redo');
  }

  private async history(which: 'undo' | 'redo'): Promise<void> {
    this.saveNote.flush();
    this.pendingSaves++;
    try {
      // Not sent again after a lost connection: it might have been done already (twice is not once).
      const { row, segments } = await this.enqueue(
        () => (which === 'undo' ? this.client.undo({}) : this.client.redo({})),
        { resend: false },
      );
      const done = which === 'undo' ? 'Undid' : 'Redid';
      if (!row) {
        // A segment step can leave nothing to show (undoing a create): the list follows its event.
        if (segments) this.showNotice(`${done} a segment edit`);
        else this.showNotice(which === 'undo' ? 'Nothing to undo' : 'Nothing to redo');
        return;
      }
      this.replaceRow(row);
      this.saveStates.set(row.id, { state: 'saved' });
      // A segment step's row may not be listed yet (the list reloads on the core's event): select it anyway.
      if (segments || this.indexById.has(row.id)) this.select(row.id);
      if (this.dimensionsFor === row.id || this.selectedId === row.id) void this.reloadDimensions(row.id);
      this.showNotice(
        segments ? `${done} a segment edit in ${row.recordingName}` : `${done} a change to ${row.recordingName}`,
      );
    } catch (err) {
      this.showError(`Could not ${which}: ${errorMessage(err)}`);
    } finally {
      this.pendingSaves--;
      this.refreshInfoSoon();
    }
  }

  private async reloadDimensions(id: number): Promise<void> {
    try {
      const annotation = await this.client.getAnnotation({ utteranceId: id });
      if (this.selectedId === id) this.setDimensionsFrom(id, annotation);
    } catch (err) {
      this.showError(`Could not load the ratings: ${errorMessage(err)}`);
    }
  }

  // ---------- model ----------

  /** Runs the active model; when the run ends, shows what it did and refreshes the list. */
  async runModel(options: RunOptions): Promise<void> {
    await this.models.start(options);
    const run = this.models.run;
    if (run.result) {
      const r = run.result;
      const failed = r.failures.length ? `, ${r.failures.length} failed` : '';
      this.showNotice(
        `Model run ${r.cancelled ? 'cancelled' : 'done'}: ${r.predicted} predicted, ${r.skipped} skipped${failed}`,
      );
    } else if (run.phase === 'cancelled') this.showNotice('Model run cancelled');
    else if (run.error) this.showError(`The model run failed: ${run.error}`);
    // The list, the info and the prediction follow the core's predictionsChanged event.
  }

  /** Lists the models (the core made the demo bundle the active one when the project was opened). */
  async loadModels(): Promise<void> {
    await this.models.load();
  }

  /** The active model as the panels show it: from the model list, else the project info; null if none. */
  get activeModel(): { name: string; version: string } | null {
    return this.models.active ?? this.info?.model ?? null;
  }

  /** The list and the prediction follow the core's modelsChanged and predictionsChanged events. */
  async setActiveModel(id: number): Promise<void> {
    await this.models.setActive(id);
  }

  /** Adds a bundle; the list and the prediction follow the core's events. Returns the core's refusal, if any. */
  async addModel(path: string): Promise<string | null> {
    return await this.models.add(path);
  }

  // ---------- project ----------

  async setAnnotator(name: string): Promise<void> {
    const annotator = name.trim();
    if (!annotator || annotator === this.info?.annotator) return;
    try {
      // The list follows the core's utterancesChanged event (another person's labels are shown now).
      this.info = await this.client.setAnnotator({ annotator });
      if (this.selectedId !== null) void this.reloadDimensions(this.selectedId);
    } catch (err) {
      this.showError(`Could not change the annotator: ${errorMessage(err)}`);
    }
  }

  /** Saves a label (new when `id` is missing); returns the core's error message, if any. */
  async saveLabel(input: {
    id?: number;
    name: string;
    color: string;
    hotkey: string | null;
    definition?: string;
    examples?: number[];
  }): Promise<string | null> {
    try {
      this.labels = await this.client.saveLabel(input);
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /** Annotations per label id (labels in use cannot be deleted); null until loaded or when it failed. */
  labelUses = $state.raw<Record<number, number> | null>(null);

  async loadLabelUsage(): Promise<void> {
    try {
      const usage = await this.client.labelUsage({});
      this.labelUses = Object.fromEntries(usage.map((u) => [u.labelId, u.annotations]));
    } catch {
      // Delete buttons then stay enabled, and the core refuses a label in use with its reason.
      this.labelUses = null;
    }
  }

  async deleteLabel(id: number): Promise<string | null> {
    try {
      this.labels = await this.client.deleteLabel({ id });
      if (this.filter.labelId === id) this.setFilter({ labelId: null });
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  // ---------- messages ----------

  showError(message: string): void {
    this.error = message;
  }

  dismissError(): void {
    this.error = null;
  }

  showNotice(message: string): void {
    this.notice = message;
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.notice = null), 4000);
  }

  // ---------- helpers ----------

  rowById(id: number): UtteranceRow | null {
    const index = this.indexById.get(id);
    return index === undefined ? null : this.rows[index]!;
  }

  private replaceRow(row: UtteranceRow): void {
    const index = this.indexById.get(row.id);
    if (index === undefined) return;
    this.rows = this.rows.with(index, row);
  }

  /**
   * Runs edits one after another, in the order they were made. An edit the host did not receive
   * (unreachable) is kept and sent again once the host is back, and the ones after it wait their
   * turn, unless `resend` is false (the host may have done it before the connection broke).
   */
  private enqueue<T>(fn: () => Promise<T>, { resend = true }: { resend?: boolean } = {}): Promise<T> {
    const attempt = resend ? () => this.sendKept(fn) : fn;
    const result = this.queue.then(attempt, attempt);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async sendKept<T>(fn: () => Promise<T>): Promise<T> {
    const connection = this.client.connection;
    for (;;) {
      const project = await this.projectCheck;
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

  /** After a reconnect: null while the kept edits may go out, else the other project's path. */
  private projectCheck: Promise<string | null> = Promise.resolve(null);

  /** Null when the host has `path` open (or nothing is known to compare), else the path it has. */
  private async sameProject(path: string | undefined): Promise<string | null> {
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

  /**
   * The host is back (it restarted, on the same address): once the kept edits are sent, reload what
   * it may have changed meanwhile (rows, info, labels, models, jobs, the selection), as if the page
   * had been reopened.
   */
  private async afterReconnect(): Promise<void> {
    await this.enqueue(() => Promise.resolve(), { resend: false });
    // The kept edits went out (or, for another project, were dropped with an error): from now on the
    // page shows, and edits, what the host has open.
    this.projectCheck = Promise.resolve(null);
    await this.load();
    void this.jobs.refresh();
    // What the selection could not load while offline (its waveform, ratings, prediction).
    if (
      this.selectedId !== null &&
      (this.dimensionsFor !== this.selectedId || this.waveformError !== null || this.predictionError !== null)
    ) {
      this.selectionRequest++;
      void this.loadSelected(this.selectedId);
    }
  }
}

/** The core's default filter (everything, in recording order), whatever fields the contract grows. */
function defaultFilter(): UtteranceFilter {
  return UtteranceFilterSchema.parse({});
}

function readAutoAdvance(): boolean {
  try {
    return localStorage.getItem(AUTO_ADVANCE_KEY) !== '0';
  } catch {
    return true;
  }
}
