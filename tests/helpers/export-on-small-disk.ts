// Runs `wavfusion export` with its output on a small tmpfs (mounted by the caller in a private mount
// namespace), then prints what the tmpfs holds, since the mount is gone once this process exits.
import fs from 'node:fs';
import path from 'node:path';
import { main } from '../../src/main/cli/main';

const [project, mount, format, leaveFree] = process.argv.slice(2) as [string, string, string, string];
const out = path.join(mount, 'export');
if (Number(leaveFree) > 0) {
  // Fill the disk, then free `leaveFree` bytes: room for a few KB, not for a whole export.
  const filler = path.join(mount, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch {
    // ENOSPC: full
  }
  fs.ftruncateSync(fd, Math.max(0, fs.fstatSync(fd).size - Number(leaveFree)));
  fs.closeSync(fd);
}
let stderr = '';
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string) => {
  stderr += chunk;
  return true;
}) as typeof process.stderr.write;
const code = await main(['export', '--project', project, '--out', out, '--format', format]);
process.stderr.write = write;
const listing: Record<string, number> = {};
const walk = (dir: string) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      listing[path.relative(mount, p) + '/'] = 0;
      walk(p);
    } else if (e.name !== 'filler') listing[path.relative(mount, p)] = fs.statSync(p).size;
  }
};
walk(mount);
process.stdout.write(JSON.stringify({ code, stderr, listing }) + '\n');
