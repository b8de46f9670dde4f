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
