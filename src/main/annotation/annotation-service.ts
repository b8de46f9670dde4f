import type { AnnotationState, Label, UtteranceRow } from '../../shared/contract';
import { EMPTY_ANNOTATION } from '../db/annotations-repository';
import { normaliseLabelName } from '../db/labels-repository';
import { StudioError, notFound } from '../errors';
import type { StudioEvents } from '../events';
import type { ProjectStore } from '../project/project-store';

/**
 * A person's labelling: every change is one transaction that writes the annotation and appends to the
 * history, so it is on disk before the caller hears it succeeded. Undo/redo walk that history per
 * annotator.
 */
export class AnnotationService {
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents,
  ) {}

  /** Who labels in this session; the list then shows that person's labels. */
  setAnnotator(annotator: string): void {
    if (annotator === this.store.annotator) return;
    this.store.annotator = annotator;
    this.events.emit('utterancesChanged', { change: 'annotator', count: 0 });
  }

  setLabel(utteranceId: number, labelId: number | null): { row: UtteranceRow } {
    if (labelId !== null && !this.store.labels.byId(labelId)) throw notFound(`Label ${labelId}`);
    return this.edit(utteranceId, (s) => ({ ...s, labelId }));
  }

  setDimensions(
    utteranceId: number,
    dims: Pick<AnnotationState, 'valence' | 'arousal' | 'dominance' | 'note'>,
  ): { row: UtteranceRow } {
    return this.edit(utteranceId, (s) => ({ ...s, ...dims }));
  }

  /** Flags the utterance "unsure / skip" for this annotator (or clears it); the label and ratings stay. */
  setUnsure(utteranceId: number, unsure: boolean): { row: UtteranceRow } {
    return this.edit(utteranceId, (s) => ({ ...s, unsure }));
  }

  undo(): UtteranceRow | null {
    return this.step('undo');
  }

  redo(): UtteranceRow | null {
    return this.step('redo');
  }

  /**
   * Reverts the next undoable entry (undo) or re-applies the last undo (redo): state := entry.before.
   * An entry of a batch (a bulk accept) takes the rest of its batch with it, as one new batch.
   */
  private step(op: 'undo' | 'redo'): UtteranceRow | null {
    const { store } = this;
    const annotator = store.annotator;
    const done = store.transaction(() => {
      const target = op === 'undo' ? store.annotations.nextUndo(annotator) : store.annotations.nextRedo(annotator);
      if (!target) return null;
      if (target.batch === null) {
        this.apply(target.utteranceId, annotator, target.before, op, target.seq);
        return { utteranceId: target.utteranceId, count: 1 };
      }
      const entries = store.annotations.batchEntries(target.batch, annotator, op);
      const batch = store.annotations.newBatch();
      // Newest first, so that an utterance listed twice ends at its oldest state (undo) or newest (redo).
      const ordered = op === 'undo' ? [...entries].reverse() : entries;
      for (const e of ordered) this.apply(e.utteranceId, annotator, e.before, op, e.seq, undefined, batch);
      return { utteranceId: target.utteranceId, count: entries.length };
    });
    if (done === null) return null;
    if (done.count === 1) return this.changed(done.utteranceId);
    this.events.emit('utterancesChanged', { change: 'labelled', count: done.count });
    return this.row(done.utteranceId);
  }

  /**
   * Several labels set in one step (a bulk accept): one transaction, one history batch that one Undo
   * reverts, one `utterancesChanged` event. Returns how many annotations changed.
   */
  setLabels(changes: readonly { utteranceId: number; labelId: number }[]): number {
    const { store } = this;
    if (changes.length === 0) return 0;
    const annotator = store.annotator;
    const count = store.transaction(() => {
      const batch = store.annotations.newBatch();
      let n = 0;
      for (const { utteranceId, labelId } of changes) {
        if (!store.utterances.byId(utteranceId)) throw notFound(`Utterance ${utteranceId}`);
        if (!store.labels.byId(labelId)) throw notFound(`Label ${labelId}`);
        const current = store.annotations.get(utteranceId, 'human', annotator);
        const before = current ? stateOf(current) : null;
        if (before?.labelId === labelId) continue;
        this.apply(utteranceId, annotator, { ...(before ?? EMPTY_ANNOTATION), labelId }, 'edit', null, before, batch);
        n++;
      }
      return n;
    });
    if (count > 0) this.events.emit('utterancesChanged', { change: 'labelled', count });
    return count;
  }

  /** The one place an annotation change is announced: after its transaction committed. */
  private changed(utteranceId: number): UtteranceRow {
    const row = this.row(utteranceId);
    this.events.emit('annotationChanged', { row });
    return row;
  }

  row(utteranceId: number): UtteranceRow {
    const row = this.store.row(utteranceId);
    if (!row) throw notFound(`Utterance ${utteranceId}`);
    return row;
  }

  private edit(utteranceId: number, change: (s: AnnotationState) => AnnotationState) {
    const { store } = this;
    if (!store.utterances.byId(utteranceId)) throw notFound(`Utterance ${utteranceId}`);
    const annotator = store.annotator;
    store.transaction(() => {
      const current = store.annotations.get(utteranceId, 'human', annotator);
      const before = current ? stateOf(current) : null;
      const after = change(before ?? EMPTY_ANNOTATION);
      this.apply(utteranceId, annotator, after, 'edit', null, before);
    });
    return { row: this.changed(utteranceId) };
  }

  private apply(
    utteranceId: number,
    annotator: string,
    after: AnnotationState | null,
    op: 'edit' | 'undo' | 'redo',
    targetSeq: number | null,
    knownBefore?: AnnotationState | null,
    batch: number | null = null,
  ): void {
    const { store } = this;
    const at = new Date().toISOString();
    const before =
      knownBefore !== undefined
        ? knownBefore
        : (() => {
            const current = store.annotations.get(utteranceId, 'human', annotator);
            return current ? stateOf(current) : null;
          })();
    store.annotations.put(utteranceId, 'human', annotator, after, at);
    store.annotations.appendHistory({ at, annotator, utteranceId, op, targetSeq, before, after, batch });
  }
}

function stateOf(a: AnnotationState): AnnotationState {
  return {
    labelId: a.labelId,
    valence: a.valence,
    arousal: a.arousal,
    dominance: a.dominance,
    note: a.note,
    unsure: a.unsure,
  };
}

/** Label set edits: names unique, hotkeys move to the label they are given, used labels stay. */
export class LabelService {
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents,
  ) {}

  /**
   * Adds or changes a label; `definition` and `examples` (the guideline) are changed only when given.
   * Examples must be live utterances of this project; a repeated one is kept once, where it first is.
   */
  save(input: {
    id?: number;
    name: string;
    color: string;
    hotkey: string | null;
    definition?: string;
    examples?: readonly number[];
  }): Label[] {
    const { labels } = this.store;
    const name = normaliseLabelName(input.name);
    const definition = input.definition?.replace(/\r\n?/g, '\n').trim();
    const examples = input.examples && [...new Set(input.examples)];
    this.store.transaction(() => {
      const clash = labels.byFoldedName(name);
      if (clash && clash.id !== input.id)
        throw new StudioError('conflict', `A label named "${clash.name}" already exists`);
      const missing = examples?.filter((u) => !this.store.utterances.byId(u));
      if (missing?.length)
        throw new StudioError(
          'invalid_request',
          `Example utterance(s) ${missing.join(', ')} not found in this project`,
        );
      if (input.hotkey) labels.releaseHotkey(input.hotkey, input.id ?? null);
      let id = input.id;
      if (id === undefined) id = labels.insert(name, input.color, input.hotkey, definition ?? '').id;
      else {
        if (!labels.byId(id)) throw notFound(`Label ${id}`);
        labels.update(id, name, input.color, input.hotkey);
        if (definition !== undefined) labels.setDefinition(id, definition);
      }
      if (examples) labels.setExamples(id, examples);
    });
    return this.changed();
  }

  /** Replaces the label set of a new, unused project with `source` (names, colours, keys, definitions). */
  replaceAll(source: readonly Label[]): Label[] {
    const { labels } = this.store;
    this.store.transaction(() => {
      for (const l of labels.list()) {
        if (labels.usageCount(l.id) > 0)
          throw new StudioError(
            'conflict',
            `"${l.name}" is in use: the label set can be replaced only in a new project`,
          );
        labels.delete(l.id);
      }
      for (const l of source) labels.insert(l.name, l.color, l.hotkey, l.definition);
    });
    return this.changed();
  }

  /** The one place a label-set change is announced. */
  private changed(): Label[] {
    const list = this.store.labels.list();
    this.events.emit('labelsChanged', list);
    return list;
  }

  delete(id: number): Label[] {
    const { labels } = this.store;
    this.store.transaction(() => {
      const label = labels.byId(id);
      if (!label) throw notFound(`Label ${id}`);
      const uses = labels.usageCount(id);
      if (uses > 0) {
        throw new StudioError(
          'conflict',
          `"${label.name}" is used by ${uses} annotation(s); relabel them before deleting it`,
        );
      }
      labels.delete(id);
    });
    return this.changed();
  }
}
