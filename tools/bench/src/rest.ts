import autocannon from 'autocannon';

export interface RestResult {
  name: string;
  concurrency: number;
  seconds: number;
  requestsPerSecond: number;
  created: number;
  createdPerSecond: number;
  statuses: Record<string, number>;
  serverErrors: number;
  clientErrors: number;
  transportErrors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  createdIds: string[];
}

export interface OrderLoad {
  name: string;
  url: string;
  concurrency: number;
  seconds: number;
  /** The customer's token and the order body of the next request. */
  next: () => { token: string; body: unknown };
}

/** Drives POST /api/orders with autocannon (as a library) and tallies what came back. */
export async function runOrderLoad(load: OrderLoad): Promise<RestResult> {
  const createdIds: string[] = [];
  const result = await autocannon({
    url: load.url,
    connections: load.concurrency,
    duration: load.seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (request) => {
          const { token, body } = load.next();
          return { ...request, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) };
        },
        onResponse: (status, body) => {
          if (status === 201) createdIds.push((JSON.parse(body) as { id: string }).id);
        },
      },
    ],
  });
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, (stats as { count: number }).count]));
  const count = (predicate: (code: number) => boolean) => Object.entries(statuses).reduce((sum, [code, n]) => sum + (predicate(Number(code)) ? n : 0), 0);
  const seconds = result.duration;
  return {
    name: load.name,
    concurrency: load.concurrency,
    seconds,
    requestsPerSecond: result.requests.total / seconds,
    created: createdIds.length,
    createdPerSecond: createdIds.length / seconds,
    statuses,
    serverErrors: count((c) => c >= 500),
    clientErrors: count((c) => c >= 400 && c < 500),
    transportErrors: result.errors + result.timeouts,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    createdIds,
  };
}
