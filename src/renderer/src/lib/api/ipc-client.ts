import {
  operationMethods,
  parseEvent,
  parseOutput,
  type EventName,
  type EventPayload,
  type StudioClient,
} from '../../../../shared/contract';
import {
  eventMethodName,
  IpcResultEnvelope,
  type BridgeEvents,
  type BridgeOperations,
  type DesktopBridge,
} from '../../../../shared/desktop-bridge';
import { ApiError } from './api-error';

/**
 * The desktop transport over the preload's bridge (window.wavfusion): what comes back is checked
 * against the contract (the envelope, each output, each event payload) before callers see it.
 */
export function createIpcClient(bridge: DesktopBridge): StudioClient {
  const operations: BridgeOperations = bridge;
  const subscriptions: BridgeEvents = bridge;
  return {
    ...operationMethods((name) => async (input) => {
      const raw: unknown = await operations[name](input);
      const result = safely(() => IpcResultEnvelope.parse(raw));
      if (!result.ok) throw malformed(`the answer to ${name}`, result.error);
      if (!result.value.ok) throw new ApiError(result.value.error);
      const { value } = result.value;
      const output = safely(() => parseOutput(name, value));
      if (!output.ok) throw malformed(`the answer to ${name}`, output.error);
      return output.value;
    }),
    transport: 'ipc',
    connection: null, // the window and the core live and die together
    chooseFolder: () => bridge.chooseFolder(),
    chooseProjectFile: (mode) => bridge.chooseProjectFile(mode),
    mediaUrl: (mediaPath: string) => `wavfusion-media://${mediaPath}`,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
      const subscribe: (listener: (payload: unknown) => void) => () => void = subscriptions[eventMethodName(event)];
      return subscribe((payload) => {
        const parsed = safely(() => parseEvent(event, payload));
        if (parsed.ok) listener(parsed.value);
        else console.error(malformed(`a ${event} event`, parsed.error).message);
      });
    },
  };
}

function safely<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function malformed(what: string, problem: string): ApiError {
  return new ApiError({ code: 'internal', message: `The studio core sent ${what} in an unexpected shape: ${problem}` });
}
