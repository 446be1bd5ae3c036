import * as grpc from '@grpc/grpc-js';
import { Counter, Histogram, Registry } from 'prom-client';

/** Seconds; unary calls here take from a millisecond (a cache hit) to seconds (a lock queue). */
export const GRPC_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** "/orderflow.inventory.v1.InventoryService/Reserve" -> service and method. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? { service: match[1] as string, method: match[2] as string } : { service: 'unknown', method: path };
}

/**
 * The server starts a call's deadline when the request arrives, the client when it sent it: on a busy box
 * the client's cancel at its deadline can reach the server a little before the server's own timer fires.
 * A cancel within this slack of the deadline is the deadline's.
 */
const DEADLINE_SLACK_MS = 50;
const deadlinePassed = (deadline: grpc.Deadline) => (deadline instanceof Date ? deadline.getTime() : deadline) <= Date.now() + DEADLINE_SLACK_MS;

/**
 * A server interceptor recording, for every unary call, `orderflow_grpc_server_handled_total` by
 * service, method and status code name, and `orderflow_grpc_server_handling_seconds` by service and
 * method. A call that ends without a status through the interceptors (the client cancelled, its deadline
 * passed, or grpc-js itself refused a request it could not decode) counts as DEADLINE_EXCEEDED when the
 * deadline has passed and CANCELLED otherwise. Streaming calls (health Watch, reflection) pass.
 */
export function grpcServerMetrics(registry: Registry): grpc.ServerInterceptor {
  const handled = new Counter({
    name: 'orderflow_grpc_server_handled_total',
    help: 'Unary gRPC calls completed on the server, by status code',
    labelNames: ['grpc_service', 'grpc_method', 'grpc_code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'orderflow_grpc_server_handling_seconds',
    help: 'Time from receiving a unary gRPC call to sending its status',
    labelNames: ['grpc_service', 'grpc_method'],
    buckets: GRPC_DURATION_BUCKETS,
    registers: [registry],
  });

  // Per method, made at its first call: its labels, and its counter's labels per status code (no regex or label objects per call).
  const byPath = new Map<string, { timed: { grpc_service: string; grpc_method: string }; byCode: Map<grpc.status, Record<string, string>> }>();
  const labelsOf = (path: string) => {
    let labels = byPath.get(path);
    if (!labels) {
      const { service, method } = splitMethodPath(path);
      labels = { timed: { grpc_service: service, grpc_method: method }, byCode: new Map() };
      byPath.set(path, labels);
    }
    return labels;
  };
  const codeLabels = (labels: ReturnType<typeof labelsOf>, code: grpc.status) => {
    let byCode = labels.byCode.get(code);
    if (!byCode) {
      byCode = { ...labels.timed, grpc_code: grpc.status[code] ?? String(code) };
      labels.byCode.set(code, byCode);
    }
    return byCode;
  };

  return (descriptor, call) => {
    if (descriptor.requestStream || descriptor.responseStream) return new grpc.ServerInterceptingCall(call);
    const labels = labelsOf(descriptor.path);
    const started = performance.now();
    let finished = false;
    const finish = (code: grpc.status) => {
      if (finished) return;
      finished = true;
      duration.observe(labels.timed, (performance.now() - started) / 1000);
      handled.inc(codeLabels(labels, code));
    };
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => finish(deadlinePassed(call.getDeadline()) ? grpc.status.DEADLINE_EXCEEDED : grpc.status.CANCELLED) }),
      sendStatus: (status, next) => {
        finish(status.code);
        next(status);
      },
    });
  };
}
