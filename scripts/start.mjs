#!/usr/bin/env node
// `npm start`: builds the app if needed, then opens the studio on the demo project (or --project FILE).
//   npm start                 desktop window (Electron); falls back to the browser host if Electron cannot start
//   npm start -- --web        serve to a browser on 127.0.0.1 and print the URL
//   npm start -- --project my.sqlite [--web] [--port N]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const web = args.includes('--web');
const rest = args.filter((a) => a !== '--web');

function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const marker = path.join(root, 'out', 'main', 'cli.js');
  if (fs.existsSync(marker) && fs.statSync(marker).mtimeMs >= newestMtime(path.join(root, 'src'))) return;
  console.log('Building WavFusion Studio…');
  const r = spawnSync('npx', ['electron-vite', 'build'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function serveInBrowser(reason) {
  if (reason)
    console.log(`\nThe desktop shell cannot start here (${reason}).\nServing the studio to your browser instead:\n`);
  const child = spawn(process.execPath, [path.join(root, 'bin', 'wavfusion.mjs'), 'serve', ...rest], {
    stdio: 'inherit',
  });
  child.on('exit', (code) => process.exit(code ?? 0));
}

/**
 * better-sqlite3 is compiled against Node's ABI for the CLI and tests; Electron needs its own build.
 * It is compiled once into .cache/ (needs Electron's headers, i.e. the internet) and handed to the
 * core through WAVFUSION_SQLITE_BINDING, so node_modules stays usable by Node.
 */
function electronSqliteBinding(electronVersion) {
  const dir = path.join(root, '.cache', `better-sqlite3-electron-${electronVersion}`);
  const binding = path.join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(binding)) return binding;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'node_modules', 'better-sqlite3'), dir, { recursive: true });
  fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
  console.log(`Compiling better-sqlite3 for Electron ${electronVersion} (once)…`);
  const r = spawnSync(
    process.execPath,
    [
      require.resolve('node-gyp/bin/node-gyp.js'),
      'rebuild',
      '--release',
      `--target=${electronVersion}`,
      '--runtime=electron',
      '--dist-url=https://electronjs.org/headers',
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  if (r.status !== 0 || !fs.existsSync(binding))
    throw new Error('could not compile better-sqlite3 for Electron (offline?)');
  return binding;
}

ensureBuilt();
if (web) serveInBrowser(null);
else {
  try {
    const electronVersion = JSON.parse(fs.readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
    const binding = electronSqliteBinding(electronVersion);
    const electronBinary = require('electron'); // path to the binary; downloaded on first use (Electron >= 45)
    const project = rest.indexOf('--project');
    const electronArgs = [root, ...(project >= 0 ? [`--project=${path.resolve(rest[project + 1])}`] : [])];
    const child = spawn(electronBinary, electronArgs, {
      stdio: 'inherit',
      env: { ...process.env, WAVFUSION_SQLITE_BINDING: binding },
    });
    child.on('error', (err) => serveInBrowser(err.message));
    child.on('exit', (code, signal) => {
      if (code !== 0 && !signal) serveInBrowser(`Electron exited with code ${code}`);
      else process.exit(code ?? 0);
    });
  } catch (err) {
    serveInBrowser(err.message.split('\n')[0]);
  }
}
