/**
 * The preload: exposes the typed desktop bridge (src/shared/desktop-bridge.ts) as `window.wavfusion`:
 * one named method per contract operation and one `on<Event>` subscription per event, each bound to
 * its own channel. No generic send/invoke reaches the page.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { createDesktopBridge } from '../shared/desktop-bridge';

contextBridge.exposeInMainWorld('wavfusion', Object.freeze(createDesktopBridge(ipcRenderer)));
