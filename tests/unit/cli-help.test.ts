import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli/main';
import { ExportFormat, ImportFormatName, TierRole } from '../../src/shared/contract';

const COMMANDS = [
  'serve',
  'import',
  'export',
  'predict',
  'agreement',
  'evaluate',
  'segment',
  'train',
  'handout',
  'merge',
];

/** Every command answers --help (and -h) with its usage on stdout and exit 0, starting nothing. */
describe('wavfusion <command> --help', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true));
    return { out: () => out.join(''), err: () => err.join('') };
  };

  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      it(`${command} ${flag}`, async () => {
        const io = capture();
        const code = await main([command, flag]);
        expect(code).toBe(0);
        expect(io.out()).toContain(`wavfusion ${command} `);
        expect(io.out()).toContain('Usage:');
        expect(io.err()).toBe('');
      });
    }
  }

  it('--help lists every command', async () => {
    const io = capture();
    expect(await main(['--help'])).toBe(0);
    for (const command of COMMANDS) expect(io.out()).toContain(`wavfusion ${command}`);
  });

  it('import and export --help name every format and tier role the contract accepts', async () => {
    const io = capture();
    expect(await main(['import', '--help'])).toBe(0);
    expect(await main(['export', '--help'])).toBe(0);
    expect(io.out()).toContain(`--format ${ImportFormatName.options.join('|')}`);
    expect(io.out()).toContain(TierRole.options.join('|'));
    expect(io.out()).toContain(`--format ${ExportFormat.options.join('|')}`);
  });
});
