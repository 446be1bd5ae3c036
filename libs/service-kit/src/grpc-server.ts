import * as grpc from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import type { Registry } from 'prom-client';
import { LEAN_GRPC_OPTIONS } from './grpc-client';
import { grpcServerMetrics, splitMethodPath } from './grpc-metrics';
import type { Component } from './lifecycle';
import type { Logger } from './logger';

export interface GrpcServiceBinding {
  /** Fully qualified name, e.g. orderflow.inventory.v1.InventoryService (the health check's key). */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  host: string;
  port: number;
  services: GrpcServiceBinding[];
  /** proto-loader definitions served by reflection, so standard tools can call the server. */
  reflection: PackageDefinition;
  logger: Logger;
  /** When given, every unary call is counted and timed in it (see grpcServerMetrics). */
  metrics?: Registry;
  /** grpc.Server options applied over this class's own (a benchmark's variants: channelz on, another interceptor). */
  channelOptions?: grpc.ServerOptions;
}

/**
 * A gRPC server with the standard health service and server reflection. `port` 0 picks a free port;
 * `boundPort` tells which after start().
 */
export class GrpcServer implements Component {
  readonly name = 'grpc-server';
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private port = 0;

  constructor(private readonly options: GrpcServerOptions) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
      // Callers reconnect now and then, so those that spread calls over a DNS name's replicas
      // (round_robin) resolve it again and find replicas added since (calls in flight get 30 s to end).
      'grpc.max_connection_age_ms': 5 * 60_000,
      'grpc.max_connection_age_grace_ms': 30_000,
      ...LEAN_GRPC_OPTIONS,
      interceptors: options.metrics ? [grpcServerMetrics(options.metrics)] : [],
      ...options.channelOptions,
    });
    this.health = new HealthImplementation({ '': 'NOT_SERVING' });
    this.health.addToServer(this.server);
    new ReflectionService(options.reflection).addToServer(this.server);
    const logCalls = options.logger.isLevelEnabled('debug');
    for (const service of options.services) {
      this.server.addService(service.definition, logCalls ? withCallLog(service, options.logger) : service.implementation);
      this.health.setStatus(service.name, 'NOT_SERVING');
    }
  }

  get boundPort(): number {
    return this.port;
  }

  async start(): Promise<void> {
    const { host, port } = this.options;
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    this.setServing(true);
    this.options.logger.info({ port: this.port }, 'gRPC server listening');
  }

  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    for (const service of this.options.services) this.health.setStatus(service.name, status);
  }

  /** Readiness off, then let in-flight calls finish; cancel what is left after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}

/**
 * At debug level, one line per unary call served (method, status, milliseconds), written as it answers:
 * inside the call's context (grpc-unary.ts), so with its request id. Nothing is wrapped at other levels.
 */
function withCallLog(service: GrpcServiceBinding, logger: Logger): grpc.UntypedServiceImplementation {
  const wrapped: grpc.UntypedServiceImplementation = { ...service.implementation };
  for (const [name, definition] of Object.entries(service.definition)) {
    const handler = service.implementation[name] as grpc.handleUnaryCall<unknown, unknown> | undefined;
    if (definition.requestStream || definition.responseStream || typeof handler !== 'function') continue;
    const { method } = splitMethodPath(definition.path);
    wrapped[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const started = performance.now();
      handler(call, (error, ...answer) => {
        const code = error ? (error.code ?? grpc.status.UNKNOWN) : grpc.status.OK;
        logger.debug({ method, code: grpc.status[code] ?? String(code), ms: Math.round((performance.now() - started) * 10) / 10 }, 'gRPC call');
        callback(error, ...answer);
      });
    };
  }
  return wrapped;
}
