/**
 * The server metrics interceptor as it was before issue 14's cheap wins (service-kit's grpc-metrics.ts at
 * 0328ef3^): the method path split by a regex, and the label objects and the timer's closure made anew on
 * every call. The same metrics as grpcServerMetrics; only for `npm run bench:grpc-wins`, which measures
 * what making the labels once per method saved (grpc-floor.server.ts with GRPC_FLOOR_METRICS=per-call).
 */
import * as grpc from '@grpc/grpc-js';
import { GRPC_DURATION_BUCKETS, splitMethodPath } from '@orderflow/service-kit';
import { Counter, Histogram, Registry } from 'prom-client';

const DEADLINE_SLACK_MS = 50;
const deadlinePassed = (deadline: grpc.Deadline) => (deadline instanceof Date ? deadline.getTime() : deadline) <= Date.now() + DEADLINE_SLACK_MS;

export function perCallLabelsMetrics(registry: Registry): grpc.ServerInterceptor {
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

  return (descriptor, call) => {
    if (descriptor.requestStream || descriptor.responseStream) return new grpc.ServerInterceptingCall(call);
    const { service, method } = splitMethodPath(descriptor.path);
    const stopTimer = duration.startTimer({ grpc_service: service, grpc_method: method });
    let finished = false;
    const finish = (code: grpc.status) => {
      if (finished) return;
      finished = true;
      stopTimer();
      handled.inc({ grpc_service: service, grpc_method: method, grpc_code: grpc.status[code] ?? String(code) });
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
