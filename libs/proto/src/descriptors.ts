import * as protoLoader from '@grpc/proto-loader';
import fs from 'node:fs';
import path from 'node:path';
import * as descriptor from 'protobufjs/ext/descriptor';

/** The folder that holds the .proto sources (for standard tools such as buf curl --schema). */
export const PROTO_ROOT = path.resolve(__dirname, '..', 'proto');

/** `buf build` output, committed beside the generated code and checked for staleness like it. */
export const DESCRIPTOR_SET_PATH = path.resolve(__dirname, 'generated', 'descriptor-set.binpb');

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

interface FileDescriptor {
  name: string;
}

/**
 * proto-loader definitions of every project proto: what server reflection serves. proto-loader
 * re-serializes file descriptors through protobufjs, which drops their `dependency` lists, and
 * standard clients (buf curl, grpcurl) then cannot resolve imported types such as Timestamp. So the
 * definitions carry buf's exact file descriptors instead.
 */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  const bytes = fs.readFileSync(DESCRIPTOR_SET_PATH);
  const definition = protoLoader.loadFileDescriptorSetFromBuffer(bytes, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  // Every entry carries every file, exactly as buf wrote it (protobufjs also regroups types across files).
  const set = descriptor.FileDescriptorSet.decode(bytes) as unknown as { file: FileDescriptor[] };
  const files = set.file.map((file) => Buffer.from(descriptor.FileDescriptorProto.encode(file as never).finish()));
  for (const entry of Object.values(definition)) {
    const withFiles = entry as { fileDescriptorProtos?: Buffer[] };
    if (withFiles.fileDescriptorProtos) withFiles.fileDescriptorProtos = files;
  }
  return definition;
}
