/**
 * The desktop bridge (`window.wavfusion`), derived once from the contract: one method per operation
 * answering an `IpcResult` envelope, one `on<Event>` subscription per event, and the folder picker.
 *
 * The preload builds it with `createDesktopBridge` over `ipcRenderer`; the main process answers each
 * channel with an `IpcResult` (src/main/api/ipc.ts); the renderer's ipc client unwraps the envelope and
 * validates what it receives against the contract (src/renderer/src/lib/api/ipc-client.ts). Nothing
 * here imports electron, so the whole path runs in tests without an Electron binary.
 */
import { z } from 'zod';
import {
  ApiErrorBody,
  eventNames,
  ipcChannel,
  operationNames,
  type EventName,
  type EventPayload,
  type OperationInput,
  type OperationName,
  type OperationOutput,
} from './contract';

/** What every invoke channel answers: the operation's output, or the core's error. */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

/** The envelope's schema around an output schema, for the receiving side to validate. */
export const ipcResultSchema = <T extends z.ZodType>(value: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: ApiErrorBody }),
  ]);

/** Any envelope (the value is checked against its operation's output schema next). */
export const IpcResultEnvelope = ipcResultSchema(z.unknown());

/** `jobUpdated` → `onJobUpdated`: the bridge's subscription method for an event. */
export type EventMethodName<E extends EventName> = `on${Capitalize<E>}`;
export function eventMethodName<E extends EventName>(event: E): EventMethodName<E> {
  const capitalised = `${event.charAt(0).toUpperCase()}${event.slice(1)}` as Capitalize<E>;
  return `on${capitalised}`;
}

export type BridgeOperations = {
  readonly [N in OperationName]: (input: OperationInput<N>) => Promise<IpcResult<OperationOutput<N>>>;
};
export type BridgeEvents = {
  readonly [E in EventName as EventMethodName<E>]: (listener: (payload: EventPayload<E>) => void) => () => void;
};
export type DesktopBridge = BridgeOperations &
  BridgeEvents & {
    /** The native folder picker; null when cancelled. */
    readonly chooseFolder: () => Promise<string | null>;
    /** The native project-file dialogs (open, or a new file's name); null when cancelled. */
    readonly chooseProjectFile: (mode: 'open' | 'new') => Promise<string | null>;
  };

/** The part of `ipcRenderer` the bridge needs (so that it can be built over a fake in tests). */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, payload: unknown) => void): unknown;
}

/**
 * Builds the bridge over `ipcRenderer`: each method bound to its own channel; no generic send or
 * invoke reaches the page. What comes back is passed on as received: the client validates it.
 */
export function createDesktopBridge(ipc: IpcRendererLike): DesktopBridge {
  const bridge: Record<string, unknown> = {};
  for (const name of operationNames) {
    bridge[name] = (input: unknown) => ipc.invoke(ipcChannel.invoke(name), input ?? {});
  }
  for (const event of eventNames) {
    bridge[eventMethodName(event)] = (listener: (payload: unknown) => void) => {
      const wrapped = (_event: unknown, payload: unknown) => listener(payload);
      ipc.on(ipcChannel.event(event), wrapped);
      return () => void ipc.removeListener(ipcChannel.event(event), wrapped);
    };
  }
  bridge.chooseFolder = () => ipc.invoke(ipcChannel.chooseFolder);
  bridge.chooseProjectFile = (mode: 'open' | 'new') => ipc.invoke(ipcChannel.chooseProjectFile, mode);
  return bridge as DesktopBridge;
}
