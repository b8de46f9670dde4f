// Runs the real CLI from source (through tsx) so process-level tests need no build step.
import { main } from '../../src/main/cli/main';

process.exitCode = await main(process.argv.slice(2));
