import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';

/** The folder that holds the .proto sources (for proto-loader, reflection and standard tools). */
export const PROTO_ROOT = path.resolve(__dirname, '..', 'proto');

/** Every .proto file of the project, relative to PROTO_ROOT. */
export function protoFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.proto')) found.push(path.relative(PROTO_ROOT, full));
    }
  };
  walk(PROTO_ROOT);
  return found.sort();
}

/** proto-loader definitions of every project proto: what server reflection serves. */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(protoFiles(), {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}
