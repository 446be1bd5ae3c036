import type { FastifyInstance } from 'fastify';
import { toMinorUnits } from '../../domain/money';
import { textProblems } from '../../domain/text';
import type { Downstream } from '../../infrastructure/downstream';
import { authenticate, requireAdmin } from './auth';
import { presentProduct } from './presenters';
import { problem, validationProblem } from './problems';
import type { routeSchemas } from './schemas';

type IdParams = { Params: { id: string } };

export function productsRoutes(downstream: Downstream, schemas: ReturnType<typeof routeSchemas>) {
  return async (app: FastifyInstance) => {
    app.put<IdParams & { Body: { name: string; price: number; stock: number } }>('/api/products/:id', { schema: schemas.putProduct }, async (request, reply) => {
      requireAdmin(await authenticate(request));
      const priceMinor = toMinorUnits(request.body.price);
      const invalid = textProblems({ name: request.body.name });
      if (priceMinor === undefined) invalid.push({ field: 'price', message: 'must have at most 2 decimal places' });
      if (invalid.length > 0 || priceMinor === undefined) throw validationProblem(invalid);
      const { product, created } = await downstream.upsertProduct({ id: request.params.id, name: request.body.name, priceMinor, available: request.body.stock });
      return reply.code(created ? 201 : 200).send(presentProduct(product!));
    });

    app.get<IdParams>('/api/products/:id', { schema: schemas.getProduct }, async (request) => {
      const { products } = await downstream.getProducts({ productIds: [request.params.id] });
      const [product] = products;
      if (!product) throw problem('not-found', `product ${request.params.id} not found`);
      return presentProduct(product);
    });
  };
}
