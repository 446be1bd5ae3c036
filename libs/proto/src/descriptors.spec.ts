import * as protobuf from 'protobufjs';
import { loadPackageDefinition, PROTO_ROOT, protoFiles } from './descriptors';

describe('proto descriptors', () => {
  it('when the package definition is loaded, then it names every versioned service', () => {
    const definition = loadPackageDefinition();
    expect(Object.keys(definition)).toEqual(expect.arrayContaining(['orderflow.inventory.v1.InventoryService', 'orderflow.order.v1.OrderCommandService', 'orderflow.order.v1.OrderEvent']));
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
