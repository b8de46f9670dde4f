/**
 * The desktop shell: window, menu and IPC wiring. The only part of src/main that imports electron;
 * everything it does is delegated to the transport-free Studio.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_EXTENSIONS, ipcChannel } from '../../shared/contract';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import type { IpcResult } from '../../shared/desktop-bridge';
import { FORBIDDEN, forwardEvents, ipcEndpoints } from '../api/ipc';
import { mediaChunks, mediaHeaders, mediaRange, resolveMedia } from '../api/media';
import { StudioSession } from '../api/session';
import { Studio } from '../api/studio';
import { toErrorBody } from '../errors';
import { APP_ROOT, RENDERER_DIR } from '../paths';
import { openDemoProject } from '../api/demo-project';

const MEDIA_SCHEME = 'wavfusion-media';
protocol.registerSchemesAsPrivileged([
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let studioSession: StudioSession | null = null;
let window: BrowserWindow | null = null;
const rendererUrl = process.env.ELECTRON_RENDERER_URL;
const indexFile = path.join(RENDERER_DIR, 'index.html');

/** Only our own page may call the API. */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return rendererUrl ? url.startsWith(rendererUrl) : url === pathToFileURL(indexFile).href;
}

function wireIpc(current: StudioSession): void {
  for (const endpoint of ipcEndpoints(current)) {
    ipcMain.handle(endpoint.channel, (event, input: unknown): Promise<IpcResult<unknown>> | IpcResult<never> =>
      fromOurPage(event) ? endpoint.handle(input) : FORBIDDEN,
    );
  }
  ipcMain.handle(ipcChannel.chooseFolder, async (event) => {
    if (!fromOurPage(event) || !window) return null;
    const result = await dialog.showOpenDialog(window, { properties: ['openDirectory', 'createDirectory'] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  // New/Open project: the native dialogs; the path then goes through newProject/openProject like any.
  ipcMain.handle(ipcChannel.chooseProjectFile, async (event, mode: unknown) => {
    if (!fromOurPage(event) || !window || (mode !== 'open' && mode !== 'new')) return null;
    const filters = [{ name: 'WavFusion project', extensions: PROJECT_EXTENSIONS.map((e) => e.slice(1)) }];
    if (mode === 'new') {
      const result = await dialog.showSaveDialog(window, { filters, properties: ['createDirectory'] });
      return result.canceled ? null : (result.filePath ?? null);
    }
    const result = await dialog.showOpenDialog(window, { filters, properties: ['openFile'] });
    return result.canceled ? null : (result.filePaths[0] ?? null);
  });
  forwardEvents(current, (channel, payload) => window?.webContents.send(channel, payload));
  current.subscribe((event) => {
    if (event === 'projectOpened') window?.setTitle(`${current.studio.store.name} — WavFusion Studio`);
  });
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const url = new URL(request.url);
    try {
      const media = await resolveMedia(current.studio, `${url.host}${url.pathname}${url.search}`);
      const range = mediaRange(request.headers.get('range'), media.size);
      if (range.status === 416)
        return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${media.size}` } });
      // made a chunk at a time as the player reads: a long clip is never whole in memory
      const chunks = mediaChunks(media, range.start, range.end);
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(new Uint8Array(next.value));
        },
        async cancel() {
          await chunks.return(undefined);
        },
      });
      return new Response(body, { status: range.status, headers: mediaHeaders(media, range) });
    } catch (err) {
      return new Response(toErrorBody(err).message, { status: 404 });
    }
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'WavFusion Studio',
    webPreferences: {
      preload: path.join(APP_ROOT, 'out', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  // No navigation, no new windows, no remote content.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (rendererUrl) void win.loadURL(rendererUrl);
  else void win.loadFile(indexFile);
  return win;
}

function buildMenu(): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([{ role: 'fileMenu' }, { role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }]),
  );
}

async function start(): Promise<void> {
  await app.whenReady();
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  const projectArg = process.argv.find((a) => a.startsWith('--project='))?.slice('--project='.length);
  const studio = projectArg ? await Studio.load(projectArg) : await openDemoProject();
  studioSession = new StudioSession(studio, { remember: true });
  wireIpc(studioSession);
  buildMenu();
  window = createWindow();
  app.on('window-all-closed', () => app.quit());
  app.on('before-quit', () => void studioSession?.close());
}

void start().catch((err) => {
  dialog.showErrorBox('WavFusion Studio could not start', toErrorBody(err).message);
  app.exit(1);
});
