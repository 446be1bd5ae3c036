import * as protobuf from 'protobufjs';
import { loadPackageDefinition, PROTO_ROOT, protoFiles } from './descriptors';

describe('proto descriptors', () => {
  it('when the package definition is loaded, then it names every versioned service', () => {
    const definition = loadPackageDefinition();
    expect(Object.keys(definition)).toEqual(
      expect.arrayContaining([
        'orderflow.inventory.v1.InventoryService',
        'orderflow.order.v1.OrderCommandService',
        'orderflow.order.v1.OrderEvent',
        'orderflow.order_query.v1.OrderQueryService',
      ]),
    );
  });

  it('when any message is inspected, then none has a map field (maps break server reflection)', () => {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => (target.startsWith('google/') ? target : `${PROTO_ROOT}/${target}`);
    root.loadSync(protoFiles(), { keepCase: true });
    const maps: string[] = [];
    const visit = (ns: protobuf.NamespaceBase) => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) {
          for (const field of nested.fieldsArray) if (field.map) maps.push(`${nested.fullName}.${field.name}`);
        }
        if (nested instanceof protobuf.Namespace) visit(nested);
      }
    };
    visit(root);
    expect(maps).toEqual([]);
  });

  it('when protos are listed, then each lives in a folder named after its versioned package', () => {
    for (const file of protoFiles()) expect(file).toMatch(/^orderflow\/[a-z_]+\/v\d+\/[a-z_]+\.proto$/);
  });
});

describe('reflection descriptors', () => {
  it('when reflection indexes the definitions, then every proto file and every message is found with its imports', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ReflectionV1Implementation } = require('@grpc/reflection/build/src/implementations/reflection-v1');
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const impl = new ReflectionV1Implementation(loadPackageDefinition());
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(Object.keys(impl.files).sort()).toEqual(['google/protobuf/timestamp.proto', ...protoFiles()].sort());
    for (const symbol of ['orderflow.order.v1.Actor', 'orderflow.order.v1.Order', 'orderflow.order.v1.OrderEvent', 'orderflow.inventory.v1.InventoryService']) {
      expect(impl.symbols[symbol]).toBeDefined();
    }
    expect(impl.files['orderflow/order/v1/events.proto'].dependency).toEqual(['google/protobuf/timestamp.proto', 'orderflow/order/v1/order.proto']);
  });
});
