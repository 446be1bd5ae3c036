#!/usr/bin/env node
/**
 * The container HEALTHCHECK of the gRPC services: the standard grpc.health.v1.Health/Check of the
 * whole server ("") on 127.0.0.1. Exit 0 when SERVING, 1 otherwise (NOT_SERVING while starting or
 * draining, unreachable, or no answer within 2 s). Kubernetes does not need it: its probes speak gRPC.
 *
 *   node grpc-health.cjs <PORT_VARIABLE> <default port>     e.g. INVENTORY_GRPC_PORT 50052
 *
 * The port comes from the same variable the service reads, so a changed port needs no image change.
 * It uses grpc-health-check's own health.proto (the services' production dependencies ship it).
 */
'use strict';
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function main([portVariable, defaultPort]) {
  const port = Number((portVariable && process.env[portVariable]) || defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('usage: node grpc-health.cjs <PORT_VARIABLE> <default port>');
    process.exit(2);
  }
  const proto = require.resolve('grpc-health-check/proto/health/v1/health.proto');
  const { grpc: pkg } = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true, enums: String }));
  const client = new pkg.health.v1.Health(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  client.check({ service: '' }, { deadline: Date.now() + 2_000 }, (error, response) => {
    client.close();
    const status = error ? `unreachable (${error.details || error.message})` : response.status;
    if (status === 'SERVING') process.exit(0);
    console.error(`127.0.0.1:${port} ${status}`);
    process.exit(1);
  });
}

main(process.argv.slice(2));
