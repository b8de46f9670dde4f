import {
  eventNames,
  operationMethods,
  parseEvent,
  type EventName,
  type EventPayload,
  type HostConnection,
  type OperationInput,
  type OperationName,
  type OperationOutput,
  type StudioClient,
} from '../../../../shared/contract';
import { ApiError, HostUnreachableError } from './api-error';

type Listener = (payload: unknown) => void;

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 3000;

/**
 * The browser transport: `POST /api/<operation>` with JSON, events over a WebSocket at /events.
 * Authentication rides on the HttpOnly cookie the host set when the page was opened with its token.
 */
export function createHttpClient(origin: string = window.location.origin): StudioClient {
  const listeners = new Map<EventName, Set<Listener>>(eventNames.map((e) => [e, new Set()]));
  const connection = hostConnection();
  let retryMs = RETRY_MIN_MS;
  let socket: WebSocket | null = null;

  const connect = () => {
    const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}/events`);
    socket = ws;
    ws.onopen = () => {
      retryMs = RETRY_MIN_MS;
      // The host answers again (with our cookie's token: a host on the same address).
      connection.set(true);
    };
    ws.onmessage = (message) => {
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
    ws.onclose = () => {
      // The host went away (stopped, killed, restarting) or the network blipped: offline until a
      // new event stream opens; try again with backoff.
      if (socket === ws) socket = null;
      connection.set(false);
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
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
      // No answer at all: offline until the event stream reconnects (closing a socket that has not
      // noticed yet starts that at once).
      connection.set(false);
      if (socket?.readyState === WebSocket.OPEN) socket.close();
      throw new HostUnreachableError();
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
    connection,
    chooseFolder: null,
    chooseProjectFile: null, // web mode: the host's picker (browsePath) instead
    mediaUrl: (mediaPath: string) => `${origin}/media/${mediaPath}`,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
      const set = listeners.get(event)!;
      const wrapped: Listener = (payload) => listener(payload as EventPayload<E>);
      set.add(wrapped);
      return () => void set.delete(wrapped);
    },
  };
}

/** Online/offline, with listeners and waiters; `set` is the transport's. */
function hostConnection(): HostConnection & { set(online: boolean): void } {
  let online = true;
  const listeners = new Set<(online: boolean) => void>();
  let waiters: (() => void)[] = [];
  return {
    get online() {
      return online;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    whenOnline() {
      return online ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
    set(value) {
      if (value === online) return;
      online = value;
      for (const l of listeners) l(value);
      if (value) {
        const ready = waiters;
        waiters = [];
        for (const resolve of ready) resolve();
      }
    },
  };
}
