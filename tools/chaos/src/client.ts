import type { Attempt } from './ledger';
import { transportError } from './outcome';

/** One REST call as a chaos client makes it: never throws; a transport failure is part of the answer. */
export interface RestCall {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  token: string;
  body?: unknown;
  idempotencyKey?: string;
  timeoutMs: number;
}

export interface RestAnswer extends Attempt {
  json?: unknown;
}

export async function call(baseUrl: string, request: RestCall, retry = false): Promise<RestAnswer> {
  const headers: Record<string, string> = { authorization: `Bearer ${request.token}` };
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  if (request.idempotencyKey) headers['idempotency-key'] = request.idempotencyKey;
  const sentAt = Date.now();
  try {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const body = json as { id?: unknown; type?: unknown } | undefined;
    return {
      sentAt,
      endedAt: Date.now(),
      retry,
      status: response.status,
      problemType: typeof body?.type === 'string' ? body.type : undefined,
      orderId: response.status < 300 && typeof body?.id === 'string' ? body.id : undefined,
      json,
    };
  } catch (error) {
    return { sentAt, endedAt: Date.now(), retry, error: transportError(error) };
  }
}
