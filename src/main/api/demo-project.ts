import fs from 'node:fs';
import { Studio } from './studio';
import { DEMO_CORPUS_DIR, demoProjectPath } from '../paths';

/**
 * Opens the demo project, creating it from the bundled demo corpus the first time. Labels made in it
 * are kept between launches.
 */
export async function openDemoProject(file = demoProjectPath()): Promise<Studio> {
  const isNew = !fs.existsSync(file);
  const studio = await Studio.load(file, { name: 'Demo corpus' });
  if (isNew || studio.store.utterances.count() === 0) {
    const job = studio.jobs.start('import', 'Import demo corpus', (ctx) =>
      studio.importer.importPath(DEMO_CORPUS_DIR, ctx),
    );
    const status = await studio.jobs.wait(job);
    if (status.state !== 'succeeded') throw new Error(`Demo corpus import failed: ${status.error ?? status.state}`);
  }
  return studio;
}
