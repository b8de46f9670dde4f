// Fine-tunes from the studio with the project's models folder on a small tmpfs (mounted by the caller
// in a private mount namespace over `<dir>/project-models`), with the real trainer, and prints what
// happened as one JSON line: the job's end, what the models folder holds, the registered models, and
// whether the project's annotations are as they were.
import fs from 'node:fs';
import path from 'node:path';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { Studio } from '../../src/main/api/studio';
import { DEMO_CORPUS, DEMO_MODEL, runImport } from './fixtures';

const [dir] = process.argv.slice(2) as [string];
const studio = Studio.open(path.join(dir, 'project.sqlite'));
const handlers = createHandlers(studio);
await runImport(studio, DEMO_CORPUS);
await invokeOperation(handlers, 'addModel', { path: DEMO_MODEL });
const labels = studio.store.labels.list().filter((l) => ['neutral', 'happy', 'angry', 'sad'].includes(l.name));
for (const [i, row] of studio.store.rows().entries())
  await invokeOperation(handlers, 'setLabel', { utteranceId: row.id, labelId: labels[i % labels.length]!.id });
const snapshot = () => JSON.stringify(studio.store.db.prepare('SELECT * FROM annotations ORDER BY id').all());
const before = snapshot();
const updates: string[] = [];
studio.subscribe((event, payload) => {
  const s = payload as { kind?: string; message?: string };
  if (event === 'jobUpdated' && s.kind === 'train' && s.message) updates.push(s.message);
});
const { jobId } = (await invokeOperation(handlers, 'startTraining', { epochs: 1, maxTrainItems: 8, threads: 1 })) as {
  jobId: string;
};
const status = await studio.jobs.wait(jobId);
const models = (await invokeOperation(handlers, 'listModels', {})) as { bundleName: string }[];
const result = {
  modelsDir: studio.training.modelsDir,
  state: status.state,
  error: status.error ?? null,
  entries: fs.readdirSync(studio.training.modelsDir),
  models: models.map((m) => m.bundleName),
  annotationsUnchanged: snapshot() === before,
  updates,
};
await studio.close();
process.stdout.write(`\n${JSON.stringify(result)}\n`);
