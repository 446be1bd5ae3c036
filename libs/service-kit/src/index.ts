export { readEnv, env, ConfigError } from './config';
export { createLogger } from './logger';
export type { Logger } from './logger';
export { Lifecycle, runUntilSignal } from './lifecycle';
export type { Component } from './lifecycle';
export { GrpcServer } from './grpc-server';
export type { GrpcServiceBinding, GrpcServerOptions } from './grpc-server';
export { retry, backoffDelay } from './retry';
export type { RetryOptions } from './retry';
