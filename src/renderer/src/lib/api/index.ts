import type { StudioClient } from '../../../../shared/contract';
import { createHttpClient } from './http-client';
import { createIpcClient } from './ipc-client';

export { ApiError, HostUnreachableError } from './api-error';

/** The desktop preload's bridge when running in Electron; the loopback host otherwise. */
export function connectStudio(): StudioClient {
  const bridge = window.wavfusion;
  return bridge ? createIpcClient(bridge) : createHttpClient();
}
