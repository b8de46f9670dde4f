#!/usr/bin/env node
// Lints training/**/*.py with Ruff (the @astral-sh/ruff-wasm-nodejs build: no PyPI needed) using the
// settings in training/ruff.toml, prints `file:line:col: CODE message` per finding and exits 1 if any.
// Usage: node scripts/lint-python.mjs [file-or-dir ...]   (default: training/)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = path.join(ROOT, 'training', 'ruff.toml');
const SKIP_DIRS = new Set(['.cache', '__pycache__', 'node_modules', '.pytest_cache']);

/** ruff.toml as JSON. Node has no TOML parser, so Python's tomllib (3.11+) reads it: the same file the
 * `ruff` CLI reads, if someone has it. */
function readConfig() {
  const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const json = execFileSync(
    python,
    ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.load(open(sys.argv[1], "rb"))))', CONFIG],
    { encoding: 'utf8' },
  );
  return JSON.parse(json);
}

function pythonFiles(target, explicit = true) {
  const stat = fs.statSync(target);
  // a file named on the command line is linted whatever its extension (the .py.txt test fixture)
  if (stat.isFile()) return explicit || target.endsWith('.py') ? [target] : [];
  const out = [];
  for (const entry of fs.readdirSync(target, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isDirectory() && SKIP_DIRS.has(entry.name)) continue;
    out.push(...pythonFiles(path.join(target, entry.name), false));
  }
  return out;
}

export function lintPython(targets, config = readConfig()) {
  const workspace = new Workspace(config, PositionEncoding.Utf16);
  const findings = [];
  for (const file of targets.flatMap((target) => pythonFiles(target))) {
    for (const d of workspace.check(fs.readFileSync(file, 'utf8'))) {
      findings.push({
        file: path.relative(process.cwd(), file),
        line: d.start_location.row,
        column: d.start_location.column,
        code: d.code ?? 'syntax-error',
        message: d.message,
      });
    }
  }
  return findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const targets = (args.length ? args : [path.join(ROOT, 'training')]).map((t) => path.resolve(t));
  const findings = lintPython(targets);
  for (const f of findings) console.log(`${f.file}:${f.line}:${f.column}: ${f.code} ${f.message}`);
  if (findings.length) {
    console.error(`ruff: ${findings.length} finding(s) (settings: training/ruff.toml)`);
    process.exit(1);
  }
  console.log(`ruff ${Workspace.version()}: training/ clean`);
}
