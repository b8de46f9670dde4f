import {
  eventNames,
  operationNames,
  type ApiErrorBody,
  type EventName,
  type EventPayload,
  type StudioClient,
} from '../../../../shared/contract';
import { ApiError } from './api-error';

type Result = { ok: true; value: unknown } | { ok: false; error: ApiErrorBody };
type DesktopBridge = Record<string, (arg?: unknown) => unknown>;

/** The desktop transport: the preload's named methods (window.wavfusion), one per operation. */
export function createIpcClient(bridge: DesktopBridge): StudioClient {
  const client: Record<string, unknown> = {
    transport: 'ipc',
    chooseFolder: () => bridge.chooseFolder!() as Promise<string | null>,
    mediaUrl: (mediaPath: string) => `wavfusion-media://${mediaPath}`,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
      if (!eventNames.includes(event)) throw new Error(`unknown event ${event}`);
      const method = `on${event[0]!.toUpperCase()}${event.slice(1)}`;
      return bridge[method]!(listener) as () => void;
    },
  };
  for (const name of operationNames) {
    client[name] = async (input: unknown) => {
      const result = (await bridge[name]!(input)) as Result;
      if (!result.ok) throw new ApiError(result.error);
      return result.value;
    };
  }
  return client as unknown as StudioClient;
}
