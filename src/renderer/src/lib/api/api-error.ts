import type { ApiErrorBody } from '../../../../shared/contract';

/** An error returned by the core, with its stable code and a message for people. */
export class ApiError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'ApiError';
  }
  get code(): ApiErrorBody['code'] {
    return this.body.code;
  }
}

/**
 * The host could not be reached at all (the request may not have arrived): the page is offline until
 * the client's connection says it is back.
 */
export class HostUnreachableError extends ApiError {
  constructor() {
    super({ code: 'internal', message: 'The studio host is not reachable. Is `wavfusion serve` still running?' });
    this.name = 'HostUnreachableError';
  }
}
