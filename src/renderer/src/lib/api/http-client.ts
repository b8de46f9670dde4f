import {
  eventNames,
  operationMethods,
  parseEvent,
  type EventName,
  type EventPayload,
  type OperationInput,
  type OperationName,
  type OperationOutput,
  type StudioClient,
} from '../../../../shared/contract';
import { ApiError } from './api-error';

type Listener = (payload: unknown) => void;

/**
 * The browser transport: `POST /api/<operation>` with JSON, events over a WebSocket at /events.
 * Authentication rides on the HttpOnly cookie the host set when the page was opened with its token.
 */
export function createHttpClient(origin: string = window.location.origin): StudioClient {
  const listeners = new Map<EventName, Set<Listener>>(eventNames.map((e) => [e, new Set()]));
  let retryMs = 250;

  const connect = () => {
    const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/events`);
    socket.onopen = () => {
      retryMs = 250;
    };
    socket.onmessage = (message) => {
      const { event, payload } = JSON.parse(String(message.data)) as { event: EventName; payload: unknown };
      const set = listeners.get(event);
      if (!set?.size) return;
      let parsed: unknown;
      try {
        parsed = parseEvent(event, payload);
      } catch (err) {
        console.error(`wavfusion: dropped a ${event} event in an unexpected shape: ${String(err)}`);
        return;
      }
      for (const l of set) l(parsed);
    };
    socket.onclose = () => {
      // The host restarted or the network blipped: reconnect with backoff.
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };
  connect();

  const call = async <N extends OperationName>(name: N, input: OperationInput<N>): Promise<OperationOutput<N>> => {
    let response: Response;
    try {
      response = await fetch(`${origin}/api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      throw new ApiError({
        code: 'internal',
        message: 'The studio host is not reachable. Is `wavfusion serve` still running?',
      });
    }
    const body = (await response.json().catch(() => null)) as unknown;
    if (!response.ok) {
      throw new ApiError(
        body && typeof body === 'object' && 'message' in body
          ? (body as ApiError['body'])
          : { code: 'internal', message: `HTTP ${response.status}` },
      );
    }
    // The host answers with the contract's output (it is typed from the same schemas).
    return body as OperationOutput<N>;
  };

  return {
    // Outputs pass as the host sent them (the desktop client checks them too; here a 10,000-row list
    // would cost ~25 ms a reload); event payloads are checked above.
    ...operationMethods((name) => (input) => call(name, input)),
    transport: 'http',
    chooseFolder: null,
    mediaUrl: (mediaPath: string) => `${origin}/media/${mediaPath}`,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
      const set = listeners.get(event)!;
      const wrapped: Listener = (payload) => listener(payload as EventPayload<E>);
      set.add(wrapped);
      return () => void set.delete(wrapped);
    },
  };
}
