import {
  eventNames,
  operationNames,
  type EventName,
  type EventPayload,
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
      for (const l of listeners.get(event) ?? []) l(payload);
    };
    socket.onclose = () => {
      // The host restarted or the network blipped: reconnect with backoff.
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  };
  connect();

  const call = async (name: string, input: unknown) => {
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
    return body;
  };

  const client: Record<string, unknown> = {
    transport: 'http',
    chooseFolder: null,
    mediaUrl: (mediaPath: string) => `${origin}/media/${mediaPath}`,
    on: <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => {
      const set = listeners.get(event)!;
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
  };
  for (const name of operationNames) client[name] = (input: unknown) => call(name, input);
  return client as unknown as StudioClient;
}
