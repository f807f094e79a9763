/**
 * An error response in GitHub's shape: `{ message, documentation_url, errors? }`.
 * Route handlers throw it; the server turns it into the HTTP response. The driver API
 * (`fake.merge(...)` and friends) throws it too, so a test sees the same status and message
 * a client of the REST API would.
 */
export class FakeHttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    message: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(`${status} ${message}`);
    this.name = 'FakeHttpError';
    this.status = status;
    this.body = {
      message,
      documentation_url: 'https://docs.github.com/rest',
      ...extra,
    };
    this.headers = headers;
  }
}

export function notFound(): FakeHttpError {
  return new FakeHttpError(404, 'Not Found');
}

/** GitHub's 422 with an `errors` array, e.g. `{ resource: 'Label', code: 'already_exists' }`. */
export function validationFailed(
  errors: ReadonlyArray<Record<string, unknown> | string>,
): FakeHttpError {
  return new FakeHttpError(422, 'Validation Failed', { errors, status: '422' });
}
