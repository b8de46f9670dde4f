/**
 * The preload: exposes one named method per contract operation and one `on<Event>` subscription per
 * event, each bound to its own channel. No generic send/invoke reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { eventNames, ipcChannel, operationNames, type EventName } from '../shared/contract';

const api: Record<string, unknown> = {};
for (const name of operationNames) {
  api[name] = (input: unknown) => ipcRenderer.invoke(ipcChannel.invoke(name), input ?? {});
}
for (const event of eventNames) {
  const method = `on${event[0]!.toUpperCase()}${event.slice(1)}`;
  api[method] = (listener: (payload: unknown) => void) => {
    const wrapped = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
    ipcRenderer.on(ipcChannel.event(event as EventName), wrapped);
    return () => ipcRenderer.removeListener(ipcChannel.event(event as EventName), wrapped);
  };
}
api.chooseFolder = () => ipcRenderer.invoke(ipcChannel.chooseFolder);

contextBridge.exposeInMainWorld('wavfusion', Object.freeze(api));
