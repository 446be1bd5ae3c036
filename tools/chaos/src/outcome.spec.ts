import { classify, IN_FLIGHT_PROBLEM, transportError } from './outcome';

describe('classify', () => {
  it.each([
    [{ status: 201 }, 'definite'],
    [{ status: 200 }, 'definite'],
    [{ status: 409, problemType: '/problems/insufficient-stock' }, 'definite'],
    [{ status: 409, problemType: '/problems/invalid-transition' }, 'definite'],
    [{ status: 422, problemType: '/problems/idempotency-key-reused' }, 'definite'],
    [{ status: 404 }, 'definite'],
    [{ status: 409, problemType: IN_FLIGHT_PROBLEM }, 'unknown'],
    [{ status: 429 }, 'unknown'],
    [{ status: 500 }, 'unknown'],
    [{ status: 503 }, 'unknown'],
    [{ status: 504 }, 'unknown'],
    [{ error: 'ECONNREFUSED' }, 'unknown'],
    [{ error: 'timeout' }, 'unknown'],
    [{}, 'unknown'],
  ])('when the answer is %j, then it is %s', (answer, outcome) => {
    expect(classify(answer)).toBe(outcome);
  });
});

describe('transportError', () => {
  it('when fetch timed out, then it is a timeout', () => {
    expect(transportError(Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' }))).toBe('timeout');
  });

  it('when undici failed on the socket, then the error code of its cause names it', () => {
    expect(transportError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }))).toBe('ECONNRESET');
    expect(transportError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' } }))).toBe(
      'UND_ERR_SOCKET',
    );
  });

  it('when there is no code, then the message is kept, short', () => {
    expect(transportError(new Error('x'.repeat(200)))).toBe(`other: ${'x'.repeat(80)}`);
  });
});
