import type {
  Label,
  ProjectInfo,
  StudioClient,
  UtteranceFilter,
  UtteranceRow,
  WaveformWindow,
} from '../../../../shared/contract';
import { mapBy } from '../util/collections';
import { debounce } from '../util/debounce';
import { errorMessage } from '../util/format';
import { EditQueue, type SaveState } from './edit-queue.svelte';
import { JobsState } from './jobs.svelte';
import { ListState } from './list-state.svelte';
import { Messages } from './messages.svelte';
import { ModelsState, type RunOptions } from './models.svelte';
import { SelectionState, type DimensionKey, type WindowOutcome } from './selection.svelte';
import { TeamState } from './team.svelte';

export type { SaveState } from './edit-queue.svelte';
export { DIMENSION_KEYS, type DimensionKey, type Dimensions } from './selection.svelte';

const AUTO_ADVANCE_KEY = 'wavfusion.autoAdvance';
const NOTE_DEBOUNCE_MS = 600;

/**
 * The annotation view's state, composed of small managers: the list (`ListState`), the selection
 * (`SelectionState`), the edits (`EditQueue`), the messages (`Messages`), jobs and models. It holds
 * the project, its labels and the connection, subscribes to the core's events (the one refresh
 * path) and offers the actions components call. Components read its getters; nothing here is
 * written from outside.
 */
export class StudioState {
  #info = $state.raw<ProjectInfo | null>(null);
  #labels = $state.raw<Label[]>([]);
  #autoAdvance = $state(readAutoAdvance());
  /** Annotations per label id (labels in use cannot be deleted); null until loaded or when it failed. */
  #labelUses = $state.raw<Record<number, number> | null>(null);
  /**
   * False while the host cannot be reached (web mode: it stopped or restarts). Edits made meanwhile
   * are kept, in order, and sent when it is back; then everything is reloaded.
   */
  #online = $state(true);

  #labelsById = $derived(mapBy(this.#labels, (l) => l.id));
  #labelsByHotkey = $derived(
    mapBy(
      this.#labels.filter((l) => l.hotkey),
      (l) => l.hotkey!,
    ),
  );

  readonly messages = new Messages();
  readonly list: ListState;
  readonly selection: SelectionState;
  readonly edits: EditQueue;
  readonly jobs: JobsState;
  readonly models: ModelsState;
  readonly team: TeamState;

  readonly #saveNote = debounce((utteranceId: number) => {
    this.edits.setTyping(null);
    void this.#saveDimensions(utteranceId);
  }, NOTE_DEBOUNCE_MS);
  readonly #refreshInfoSoon = debounce(() => void this.refreshInfo(), 300);

  constructor(readonly client: StudioClient) {
    this.list = new ListState(client, {
      beforeRows: () => this.#saveNote.flush(), // while its row is still listed
      onRows: (rows, first) => this.selection.followList(rows, first),
      keep: () => this.selection.id,
    });
    this.selection = new SelectionState(client, this.list, this.messages, () => {
      if (this.#saveNote.pending) this.#saveNote.flush();
    });
    this.edits = new EditQueue(client, this.list, this.messages, () => this.#refreshInfoSoon());
    this.jobs = new JobsState(client);
    this.models = new ModelsState(client, this.jobs);
    this.team = new TeamState(client);
  }

  // ---------- what components read ----------

  get info(): ProjectInfo | null {
    return this.#info;
  }
  /** Where the renderer fetches a host file (a recording, a guideline's example audio). */
  mediaUrl(path: string): string {
    return this.client.mediaUrl(path);
  }
  get labels(): Label[] {
    return this.#labels;
  }
  get labelsById(): Map<number, Label> {
    return this.#labelsById;
  }
  get labelUses(): Record<number, number> | null {
    return this.#labelUses;
  }
  get autoAdvance(): boolean {
    return this.#autoAdvance;
  }
  get online(): boolean {
    return this.#online;
  }
  /** The loaded rows, in list order (a window of the list: `list.rowAt` reads by position). */
  get rows(): UtteranceRow[] {
    return this.list.loadedRows;
  }
  get total(): number {
    return this.list.total;
  }
  /** Utterances the filter matches, loaded or not. */
  get matching(): number {
    return this.list.matching;
  }
  get filter(): UtteranceFilter {
    return this.list.filter;
  }
  get filtered(): boolean {
    return this.list.filtered;
  }
  get searchText(): string {
    return this.list.searchText;
  }
  get loading(): boolean {
    return this.list.loading;
  }
  get loadError(): string | null {
    return this.list.loadError;
  }
  get selectedId(): number | null {
    return this.selection.id;
  }
  get selectedIndex(): number {
    return this.selection.index;
  }
  get selectedRow(): UtteranceRow | null {
    return this.selection.row;
  }
  get waveform() {
    return this.selection.waveform;
  }
  get waveformError(): string | null {
    return this.selection.waveformError;
  }
  /** A window of the selected recording instead of the utterance (the player's deep zoom), or null. */
  showWaveformWindow(window: WaveformWindow | null): Promise<WindowOutcome> {
    return this.selection.showWindow(window);
  }
  get dimensions() {
    return this.selection.dimensions;
  }
  get dimensionsFor(): number | null {
    return this.selection.dimensionsFor;
  }
  get prediction() {
    return this.selection.prediction;
  }
  get predictionFor(): number | null {
    return this.selection.predictionFor;
  }
  get predictionError(): string | null {
    return this.selection.predictionError;
  }
  get saveStates(): ReadonlyMap<number, SaveState> {
    return this.edits.saveStates;
  }
  get saveSummary(): SaveState | null {
    return this.edits.saveSummary;
  }
  /** Edits made and not yet saved (while offline: those kept in this page). */
  get unsaved(): number {
    return this.edits.unsaved;
  }
  /** The latest error to show in the banner, until dismissed or superseded. */
  get error(): string | null {
    return this.messages.error;
  }
  /** A passing remark for the status bar ("Nothing to undo"). */
  get notice(): string | null {
    return this.messages.notice;
  }

  /** Loads the project and subscribes to the core's events; returns the unsubscribe. */
  connect(): () => void {
    const offs = [
      // The one refresh path: each change the core announces reloads only what it changed, once.
      this.client.on('labelsChanged', (labels) => {
        this.#labels = labels;
      }),
      this.client.on('utterancesChanged', ({ change }) => {
        void this.list.load({ keepLoaded: true });
        this.#refreshInfoSoon();
        // A segment edit may have moved the selected utterance or its neighbours: redraw its waveform.
        if (change === 'segments') void this.selection.reloadWaveform();
      }),
      this.client.on('modelsChanged', (models) => {
        this.models.models = models;
        this.#refreshInfoSoon();
      }),
      this.client.on('predictionsChanged', () => {
        void this.list.load({ keepLoaded: true });
        this.#refreshInfoSoon();
        void this.selection.reloadPrediction();
      }),
      // The roster or the settings changed (here, in another window, by a merge): rows may show more or
      // less (blind mode, K, shares), and the prediction may be hidden now. TeamState takes the payload.
      this.client.on('labellingChanged', () => {
        void this.list.load({ keepLoaded: true });
        void this.selection.reloadPrediction();
      }),
      this.team.connect(),
      this.client.on('annotationChanged', ({ row }) => {
        // Our own edits come back here too; rows with edits in flight are settled by their responses.
        if (!this.edits.isPending(row.id)) this.list.replaceRow(row);
      }),
      // Another project was opened (from this window or another): start over on it; a rename: the name.
      this.client.on('projectOpened', ({ info, reason }) => {
        this.#info = info;
        if (reason !== 'renamed') void this.#startOver();
      }),
      this.jobs.connect(),
      this.client.connection?.onChange((online) => {
        this.#online = online;
        if (online) void this.#afterReconnect();
      }) ?? (() => undefined),
    ];
    // Leaving the page sends a note still waiting for its pause in typing.
    const flush = () => this.#saveNote.flush();
    window.addEventListener('pagehide', flush);
    void this.load();
    return () => {
      window.removeEventListener('pagehide', flush);
      for (const off of offs) off();
      this.list.dispose();
      this.#saveNote.flush();
      this.selection.dispose();
      this.#refreshInfoSoon.cancel();
      this.messages.dispose();
    };
  }

  /** Before this window opens another project: the note being typed and every edit in flight are sent. */
  async settle(): Promise<void> {
    this.#saveNote.flush();
    await this.edits.settle();
  }

  /** The host opened another project: what is shown is that project's, from its first utterance. */
  async #startOver(): Promise<void> {
    // A note typed here for the old project must not land on the new project's utterance of that id.
    this.#saveNote.cancel();
    this.edits.setTyping(null);
    this.list.dispose();
    this.select(null);
    this.list.startOver();
    this.#labelUses = null;
    await this.load();
    void this.jobs.refresh();
    if (this.team.loaded) void this.team.load();
  }

  async load(): Promise<void> {
    await this.list.loadWith(async () => {
      await Promise.all([this.refreshInfo(), this.loadLabels(), this.list.load({ keepLoaded: true })]);
      void this.loadModels();
    });
  }

  async refreshInfo(): Promise<void> {
    this.#info = await this.client.getProjectInfo({});
  }

  async loadLabels(): Promise<void> {
    this.#labels = await this.client.listLabels({});
  }

  // ---------- filter ----------

  setSearch(text: string): void {
    this.list.setSearch(text);
  }

  /** Clears the search at once (Escape in the search box): the text and the filter it set. */
  clearSearch(): void {
    this.list.clearSearch();
  }

  setFilter(change: Partial<Omit<UtteranceFilter, 'search'>>): void {
    this.list.setFilter(change);
  }

  clearFilters(): void {
    this.list.clearFilters();
  }

  // ---------- selection ----------

  select(id: number | null): void {
    this.selection.select(id);
  }

  /** Selects the first (`'first'`) or last row of the list. */
  selectEdge(edge: 'first' | 'last'): void {
    this.selection.selectEdge(edge);
  }

  selectOffset(delta: number): void {
    this.selection.selectOffset(delta);
  }

  // ---------- labelling ----------

  setAutoAdvance(on: boolean): void {
    this.#autoAdvance = on;
    try {
      localStorage.setItem(AUTO_ADVANCE_KEY, on ? '1' : '0');
    } catch {
      // Storage may be unavailable; the toggle still works for this session.
    }
  }

  labelByHotkey(hotkey: string): void {
    const label = this.#labelsByHotkey.get(hotkey);
    if (label) void this.setLabel(label.id);
  }

  /** Sets (or, with null, clears) the selected utterance's label; advances when asked to. */
  async setLabel(labelId: number | null): Promise<void> {
    const row = this.selectedRow;
    if (!row) return;
    const annotator = this.#info?.annotator ?? null;
    if (labelId !== null && this.#autoAdvance) this.selectOffset(1);
    if (row.labelId === labelId && !this.edits.isPending(row.id)) return;
    await this.edits.edit(row, { ...row, labelId, annotator: labelId === null ? null : annotator }, () =>
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
    if (this.#autoAdvance) this.selectOffset(1);
    if (predicted.labelId !== null && row.labelId === predicted.labelId && !this.edits.isPending(row.id)) return;
    const annotator = this.#info?.annotator ?? null;
    const optimistic = predicted.labelId === null ? row : { ...row, labelId: predicted.labelId, annotator };
    await this.edits.edit(
      row,
      optimistic,
      () => this.client.acceptPrediction({ utteranceId: row.id }),
      'accepted label',
    );
  }

  /** Flags the selected utterance "unsure / skip", or clears the flag (U): one undoable edit, no advance. */
  async toggleUnsure(): Promise<void> {
    const row = this.selectedRow;
    if (!row) return;
    const unsure = !row.unsure;
    await this.edits.edit(
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
    await this.edits.edit(
      row,
      { ...row, transcript, speaker },
      () => this.client.setUtteranceText({ utteranceId, ...change }),
      change.transcript === undefined ? 'speaker' : 'transcript',
    );
  }

  setDimension(key: DimensionKey, value: number | null): void {
    const id = this.selection.dimensionsFor;
    if (id === null) return;
    this.selection.setDimension(key, value);
    void this.#saveDimensions(id);
  }

  setNote(note: string): void {
    const id = this.selection.dimensionsFor;
    if (id === null) return;
    this.selection.setDimension('note', note);
    this.edits.setTyping(id);
    this.#saveNote(id);
  }

  flushNote(): void {
    this.#saveNote.flush();
  }

  async #saveDimensions(utteranceId: number): Promise<void> {
    if (this.selection.dimensionsFor !== utteranceId) return;
    const dims = $state.snapshot(this.selection.dimensions);
    const send = () => this.client.setDimensions({ utteranceId, ...dims });
    const row = this.rowById(utteranceId);
    // Ratings and the note stay as typed when it fails (marked "Not saved"): the next edit sends them again.
    if (row) await this.edits.edit(row, row, send, 'ratings');
    // Filtered out of the list meanwhile: save anyway, just without a row to update.
    else await this.edits.editUnlisted(utteranceId, send, 'ratings');
  }

  /**
   * A segment edit (commit, create, resize, split, merge, delete): sent in order after earlier edits
   * and never sent twice (a second split is not the first one again); `optimistic` shows the row at
   * once. The list and the waveform follow the core's event. Null when it failed (said in the banner).
   */
  async editSegments<T>(what: string, send: () => Promise<T>, optimistic?: UtteranceRow): Promise<T | null> {
    this.#saveNote.flush();
    return await this.edits.editSegments(what, send, optimistic);
  }

  async undo(): Promise<void> {
    await this.#history('undo');
  }

  async redo(): Promise<void> {
    await this.#history('redo');
  }

  async #history(which: 'undo' | 'redo'): Promise<void> {
    this.#saveNote.flush();
    // Where the person was when they asked: a move made while the step is on its way (J, ] or a click
    // right after Ctrl+Z) is theirs and stays; the step's row is selected only when they did not move.
    const selectedBefore = this.selectedId;
    try {
      // Not sent again after a lost connection: it might have been done already (twice is not once).
      const { row, segments } = await this.edits.sendOnce(() =>
        which === 'undo' ? this.client.undo({}) : this.client.redo({}),
      );
      const done = which === 'undo' ? 'Undid' : 'Redid';
      if (!row) {
        // A segment step can leave nothing to show (undoing a create): the list follows its event.
        if (segments) this.showNotice(`${done} a segment edit`);
        else this.showNotice(which === 'undo' ? 'Nothing to undo' : 'Nothing to redo');
        return;
      }
      this.list.replaceRow(row);
      this.edits.markSaved(row.id);
      // A segment step's row may not be listed yet (the list reloads on the core's event): select it anyway.
      if (this.selectedId === selectedBefore && (segments || this.list.indexById.has(row.id))) this.select(row.id);
      if (this.selection.dimensionsFor === row.id || this.selectedId === row.id)
        void this.selection.reloadDimensions(row.id);
      this.showNotice(
        segments ? `${done} a segment edit in ${row.recordingName}` : `${done} a change to ${row.recordingName}`,
      );
    } catch (err) {
      this.showError(`Could not ${which}: ${errorMessage(err)}`);
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
    return this.models.active ?? this.#info?.model ?? null;
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
    if (!annotator || annotator === this.#info?.annotator) return;
    try {
      // The list follows the core's utterancesChanged event (another person's labels are shown now).
      this.#info = await this.client.setAnnotator({ annotator });
      if (this.selectedId !== null) void this.selection.reloadDimensions(this.selectedId);
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
      this.#labels = await this.client.saveLabel(input);
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async loadLabelUsage(): Promise<void> {
    try {
      const usage = await this.client.labelUsage({});
      this.#labelUses = Object.fromEntries(usage.map((u) => [u.labelId, u.annotations]));
    } catch {
      // Delete buttons then stay enabled, and the core refuses a label in use with its reason.
      this.#labelUses = null;
    }
  }

  async deleteLabel(id: number): Promise<string | null> {
    try {
      this.#labels = await this.client.deleteLabel({ id });
      if (this.filter.labelId === id) this.setFilter({ labelId: null });
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  // ---------- messages ----------

  showError(message: string): void {
    this.messages.showError(message);
  }

  dismissError(): void {
    this.messages.dismissError();
  }

  showNotice(message: string): void {
    this.messages.showNotice(message);
  }

  // ---------- helpers ----------

  rowById(id: number): UtteranceRow | null {
    return this.list.rowById(id);
  }

  /**
   * The host is back (it restarted, on the same address): once the kept edits are sent (or, when it
   * has another project open, dropped with an error), reload what it may have changed meanwhile
   * (rows, info, labels, models, jobs, the selection), as if the page had been reopened.
   */
  async #afterReconnect(): Promise<void> {
    await this.edits.reconnected(this.#info?.path);
    await this.load();
    void this.#jobsAfterReconnect();
    // Roster and settings changes announced while offline were missed.
    if (this.team.loaded) void this.team.load();
    // What the selection could not load while offline (its waveform, ratings, prediction).
    this.selection.reloadIncomplete();
  }

  /** Jobs that ran on the host that stopped are not running any more: said once, in the banner. */
  async #jobsAfterReconnect(): Promise<void> {
    const lost = await this.jobs.reconnected();
    if (!lost.length) return;
    const which = lost.length === 1 ? `"${lost[0]!.title}" was` : `${lost.length} jobs were`;
    this.showError(`${which} interrupted: the studio host stopped while it ran, and it did not finish`);
  }
}

function readAutoAdvance(): boolean {
  try {
    return localStorage.getItem(AUTO_ADVANCE_KEY) !== '0';
  } catch {
    return true;
  }
}
