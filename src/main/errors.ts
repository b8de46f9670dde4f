import type { ApiErrorBody } from '../shared/contract';

/** An error whose message is meant for the person using the studio. */
export class StudioError extends Error {
  constructor(
    readonly code: ApiErrorBody['code'],
    message: string,
    readonly issues?: string[],
  ) {
    super(message);
    this.name = 'StudioError';
  }
}

export const notFound = (what: string) => new StudioError('not_found', `${what} not found`);

export function toErrorBody(err: unknown): ApiErrorBody {
  if (err instanceof StudioError) {
    return { code: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message };
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') return 'the disk is full';
    if (code === 'SQLITE_FULL')
      return "the project file cannot grow: its disk is full (or it reached SQLite's size limit)";
    if (code?.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
      return `the project file is damaged (${err.message}); restore a backup (see the project's .backups folder)`;
    if (code?.startsWith('SQLITE_BUSY'))
      return 'the project is busy: another window or command kept it locked too long; try again';
    if (code === 'EACCES' || code === 'EPERM') return `permission denied: ${err.message}`;
    if (code === 'ENOENT') return `no such file: ${(err as NodeJS.ErrnoException).path ?? err.message}`;
    return err.message;
  }
  return String(err);
}
