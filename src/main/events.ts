import type { EventName, EventPayload } from '../shared/contract';

export type StudioListener = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

/**
 * The core's domain events, one bus per open project. The services that change state emit here, each
 * change from one place, after its transaction committed; the transports (IPC, WebSocket) and the
 * CLI subscribe. Handlers never emit.
 */
export class StudioEvents {
  private readonly listeners = new Set<StudioListener>();

  subscribe(listener: StudioListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) listener(event, payload);
  }
}
