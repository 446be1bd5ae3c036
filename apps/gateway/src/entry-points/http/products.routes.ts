import type { FastifyInstance } from 'fastify';
import { toMinorUnits } from '../../domain/money';
import type { Downstream } from '../../infrastructure/downstream';
import { presentProduct } from './presenters';
import { problem, validationProblem } from './problems';
import type { routeSchemas } from './schemas';

type IdParams = { Params: { id: string } };

export function productsRoutes(downstream: Downstream, schemas: ReturnType<typeof routeSchemas>) {
  return async (app: FastifyInstance) => {
    app.put<IdParams & { Body: { name: string; price: number; stock: number } }>('/api/products/:id', { schema: schemas.putProduct, config: { auth: 'admin' } }, async (request, reply) => {
      const priceMinor = toMinorUnits(request.body.price);
      if (priceMinor === undefined) throw validationProblem([{ field: 'price', message: 'must have at most 2 decimal places' }]);
      const { product, created } = await downstream.upsertProduct({ id: request.params.id, name: request.body.name, priceMinor, available: request.body.stock });
      return reply.code(created ? 201 : 200).send(presentProduct(product!));
    });

    app.get<IdParams>('/api/products/:id', { schema: schemas.getProduct, config: { auth: 'public' } }, async (request) => {
      const { products } = await downstream.getProducts({ productIds: [request.params.id] });
      const [product] = products;
      if (!product) throw problem('not-found', `product ${request.params.id} not found`);
      return presentProduct(product);
    });
  };
}
