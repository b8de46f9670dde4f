/**
 * The main-process half of the desktop bridge (src/shared/desktop-bridge.ts), without electron: each
 * invoke channel with a handler answering an `IpcResult`, and the events to forward to a window.
 * src/main/desktop wires these to ipcMain and webContents; tests wire them to a fake ipcRenderer.
 */
import { ipcChannel, operationNames } from '../../shared/contract';
import type { IpcResult } from '../../shared/desktop-bridge';
import { toErrorBody } from '../errors';
import { createHandlers, invokeOperation } from './handlers';
import { StudioSession } from './session';
import type { Studio } from './studio';

export interface IpcEndpoint {
  channel: string;
  handle(input: unknown): Promise<IpcResult<unknown>>;
}

/** What a channel answers a page that is not ours. */
export const FORBIDDEN: IpcResult<never> = { ok: false, error: { code: 'forbidden', message: 'unknown sender' } };

/** One endpoint per operation: validates the request, runs it, and wraps the output or the error. */
export function ipcEndpoints(target: Studio | StudioSession): IpcEndpoint[] {
  const handlers = createHandlers(target);
  return operationNames.map((name) => ({
    channel: ipcChannel.invoke(name),
    handle: async (input) => {
      try {
        return { ok: true, value: await invokeOperation(handlers, name, input) };
      } catch (err) {
        return { ok: false, error: toErrorBody(err) };
      }
    },
  }));
}

/** Sends every studio event on its own channel; returns the unsubscribe. */
export function forwardEvents(
  target: Studio | StudioSession,
  send: (channel: string, payload: unknown) => void,
): () => void {
  return StudioSession.of(target).subscribe((event, payload) => send(ipcChannel.event(event), payload));
}
