import type { FastifyInstance } from 'fastify';
import { toMinorUnits } from '../../domain/money';
import { textProblems } from '../../domain/text';
import type { Downstream } from '../../infrastructure/downstream';
import { principalOf } from './auth';
import { presentProduct } from './presenters';
import { problem, validationProblem } from './problems';
import type { routeSchemas } from './schemas';

type IdParams = { Params: { id: string } };

export function productsRoutes(downstream: Downstream, schemas: ReturnType<typeof routeSchemas>) {
  return async (app: FastifyInstance) => {
    app.put<IdParams & { Body: { name: string; price: number; stock: number } }>(
      '/api/products/:id',
      { schema: schemas.putProduct, config: { auth: 'admin' } },
      async (request, reply) => {
        const priceMinor = toMinorUnits(request.body.price);
        const invalid = textProblems({ name: request.body.name });
        if (priceMinor === undefined) invalid.push({ field: 'price', message: 'must have at most 2 decimal places' });
        if (invalid.length > 0 || priceMinor === undefined) throw validationProblem(invalid);
        const { product, created } = await downstream.upsertProduct(
          { id: request.params.id, name: request.body.name, priceMinor, available: request.body.stock },
          request.id,
        );
        return reply.code(created ? 201 : 200).send(presentProduct(product!));
      },
    );

    app.post<IdParams & { Body: { delta: number; reason: string } }>(
      '/api/products/:id/stock',
      { schema: schemas.adjustStock, config: { auth: 'admin' } },
      async (request) => {
        const principal = principalOf(request);
        const { delta, reason } = request.body;
        const errors = [
          ...(delta === 0 ? [{ field: 'delta', message: 'must not be 0' }] : []),
          ...(reason.trim() === '' ? [{ field: 'reason', message: 'must not be blank' }] : []),
        ];
        if (errors.length > 0) throw validationProblem(errors);
        const { product } = await downstream.adjustStock({ productId: request.params.id, delta, reason, actorId: principal.customerId }, request.id);
        return presentProduct(product!);
      },
    );

    app.get<IdParams>('/api/products/:id', { schema: schemas.getProduct, config: { auth: 'public' } }, async (request) => {
      const { products } = await downstream.getProducts({ productIds: [request.params.id] }, request.id);
      const [product] = products;
      if (!product) throw problem('not-found', `product ${request.params.id} not found`);
      return presentProduct(product);
    });
  };
}
