import {
  parseEvent,
  parseOutput,
  type EventName,
  type EventPayload,
  type HostConnection,
  type OperationInput,
  type OperationName,
  type OperationOutput,
  type StudioClient,
  type UtteranceRow,
} from '../../../../shared/contract';
import { HostUnreachableError } from '../api/api-error';

type Handlers = {
  [N in OperationName]?: (input: OperationInput<N>) => OperationOutput<N> | Promise<OperationOutput<N>>;
};

/**
 * A StudioClient for the state managers' specs: the operations a spec gives, each answer checked
 * against the contract as the real clients check theirs; every call recorded; events emitted by the
 * spec (checked too); a connection that goes offline and back. An operation the spec did not give
 * throws, so a spec states everything its manager asks for.
 */
export class FakeClient {
  readonly calls: { name: OperationName; input: unknown }[] = [];
  readonly client: StudioClient;
  #handlers: Handlers;
  #listeners = new Map<EventName, Set<(payload: never) => void>>();
  #online = true;
  #connectionListeners = new Set<(online: boolean) => void>();
  #backOnline: (() => void)[] = [];

  constructor(handlers: Handlers, options: { connection?: boolean } = {}) {
    this.#handlers = handlers;
    const isOnline = () => this.#online;
    const connection: HostConnection | null = options.connection
      ? {
          get online() {
            return isOnline();
          },
          onChange: (listener) => {
            this.#connectionListeners.add(listener);
            return () => this.#connectionListeners.delete(listener);
          },
          whenOnline: () =>
            this.#online ? Promise.resolve() : new Promise<void>((resolve) => this.#backOnline.push(resolve)),
        }
      : null;
    const base = {
      on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
        const set = this.#listeners.get(event) ?? new Set();
        set.add(listener as (payload: never) => void);
        this.#listeners.set(event, set);
        return () => set.delete(listener as (payload: never) => void);
      },
      mediaUrl: (path: string) => `media://${path}`,
      chooseFolder: null,
      chooseProjectFile: null,
      transport: 'http' as const,
      connection,
    };
    this.client = new Proxy(base, {
      get: (target, name) => {
        if (name in target) return target[name as keyof typeof target];
        return (input: unknown) => this.#call(name as OperationName, input);
      },
    }) as unknown as StudioClient;
  }

  /** Replaces or adds operations (a later step of a spec answers differently). */
  handle(handlers: Handlers): void {
    this.#handlers = { ...this.#handlers, ...handlers };
  }

  /** How many times `name` was called. */
  count(name: OperationName): number {
    return this.calls.filter((c) => c.name === name).length;
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = parseEvent(event, payload);
    for (const listener of this.#listeners.get(event) ?? []) (listener as (p: EventPayload<E>) => void)(checked);
  }

  /** The host stops answering: every request fails as unreachable until `goOnline`. */
  goOffline(): void {
    this.#online = false;
    for (const listener of this.#connectionListeners) listener(false);
  }

  goOnline(): void {
    this.#online = true;
    for (const resolve of this.#backOnline.splice(0)) resolve();
    for (const listener of this.#connectionListeners) listener(true);
  }

  async #call(name: OperationName, input: unknown): Promise<unknown> {
    this.calls.push({ name, input });
    await Promise.resolve();
    if (!this.#online) throw new HostUnreachableError();
    const handler = this.#handlers[name] as ((input: unknown) => unknown) | undefined;
    if (!handler) throw new Error(`the spec gave no ${name}`);
    return parseOutput(name, await handler(input));
  }
}

/** A list row with every field the contract requires, `change` on top. */
export function row(id: number, change: Partial<UtteranceRow> = {}): UtteranceRow {
  return {
    id,
    recordingId: id,
    recordingName: `clip-${id}.wav`,
    start: 0,
    end: 1,
    speaker: null,
    transcript: `utterance ${id}`,
    labelId: null,
    annotator: null,
    importedLabelId: null,
    missing: false,
    prediction: null,
    consensus: { state: null, labels: 0, needed: 1, labelId: null, hidden: false, needsMe: true },
    unsure: false,
    ...change,
  };
}

/**
 * What a StudioState asks for as it connects and selects a row, answered for a project whose list is
 * `rows()` (read at each call): its info (annotator ana, no model), no labels, models or jobs, a
 * one-second clip per utterance, no annotation or prediction. A spec spreads it and overrides what it
 * is about.
 */
export function studioHandlers(rows: () => UtteranceRow[]): Handlers {
  return {
    getProjectInfo: () => ({
      name: 'p',
      path: '/p/a.wavfusion',
      schemaVersion: 12,
      appVersion: '0',
      counts: { recordings: rows().length, utterances: rows().length, labelled: 0, missingRecordings: 0 },
      speakers: [],
      annotator: 'ana',
      model: null,
      inference: null,
    }),
    listLabels: () => [],
    listUtterances: () => ({ rows: rows(), total: rows().length, filtered: rows().length, offset: 0 }),
    listModels: () => [],
    listJobs: () => [],
    getWaveform: ({ utteranceId }) => ({
      utteranceId,
      mediaPath: 'c.wav',
      clipStart: 0,
      clipEnd: 1,
      recordingDurationS: 1,
      windowed: false,
      peaks: [],
      peaksPerSecond: 1,
      regions: [],
    }),
    getAnnotation: () => null,
    getPrediction: () => null,
  };
}

/** A promise and its resolve/reject, to answer a request when the spec says so. */
export function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
