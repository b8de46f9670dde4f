import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { REPO_ROOT } from './fixtures';

export interface HostProcess {
  child: ChildProcessWithoutNullStreams;
  base: string;
  /** POST /api/<name> with the token; resolves with the status and the parsed body. */
  api(name: string, body: unknown): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** Starts `wavfusion serve --project FILE` as a real process (from source, through tsx). */
export async function startHostProcess(project: string, token: string): Promise<HostProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'tests/helpers/serve-entry.ts', 'serve', '--project', project, '--port', '0'],
    { cwd: REPO_ROOT, env: { ...process.env, WAVFUSION_TOKEN: token }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`host exited early (${code}): ${err}`)));
    setTimeout(() => reject(new Error(`host did not start: ${err}`)), 60_000);
  });
  return {
    child,
    base,
    api: async (name, body) => {
      const res = await fetch(`${base}/api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
