import { Metadata, type sendUnaryData, type ServerUnaryCall, type ServiceError, status } from '@grpc/grpc-js';
import { REQUEST_ID_KEY } from './request-context';

/** libs/proto orderflow.batch.v1.EntryContext, as ts-proto generates it. */
export interface EntryContext {
  requestId: string;
  timeoutMs: number;
}

/** libs/proto orderflow.batch.v1.EntryStatus, as ts-proto generates it. */
export interface EntryStatus {
  code: number;
  message: string;
  metadata: { key: string; value: Buffer }[];
}

/** The shape every batch method shares: entries in, one result per entry out, in order. */
export interface BatchRequest<Req> {
  entries: { request?: Req | undefined; context?: EntryContext | undefined }[];
}
export interface BatchResponse<Res> {
  results: { status?: EntryStatus | undefined; response?: Res | undefined }[];
}

type UnaryHandler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** An entry's status from what its unary handler answered (a mapped error carries code, details and metadata). */
export function entryStatusOf(error: Partial<ServiceError> | null): EntryStatus {
  if (!error) return { code: status.OK, message: '', metadata: [] };
  const metadata = Object.entries(error.metadata?.toJSON() ?? {}).flatMap(([key, values]) =>
    values.map((value) => ({ key, value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value })),
  );
  return { code: error.code ?? status.UNKNOWN, message: error.details ?? error.message ?? '', metadata };
}

/**
 * Serves a batch method with the handler of its unary method: each entry is handled as a unary call of
 * its own would be (its request id, its deadline within the batch call's, the same error mapping), all
 * at once, and the batch answers when every entry has. The unary handler's work may itself be batched
 * further down (inventory's reserve batcher gathers the entries' stock updates).
 */
export function batchHandler<Req, Res>(single: UnaryHandler<Req, Res>) {
  return (call: ServerUnaryCall<BatchRequest<Req>, BatchResponse<Res>>, callback: sendUnaryData<BatchResponse<Res>>) => {
    const batchDeadline = call.getDeadline();
    const arrived = Date.now();
    const results = call.request.entries.map(
      ({ request, context }) =>
        new Promise<BatchResponse<Res>['results'][number]>((resolve) => {
          const metadata = new Metadata();
          if (context?.requestId) metadata.set(REQUEST_ID_KEY, context.requestId);
          const own = context?.timeoutMs ? arrived + context.timeoutMs : Infinity;
          const deadline = Math.min(own, batchDeadline instanceof Date ? batchDeadline.getTime() : Number(batchDeadline));
          const entryCall = { request: request ?? {}, metadata, getDeadline: () => deadline, cancelled: false } as unknown as ServerUnaryCall<Req, Res>;
          single(entryCall, (error, response) =>
            resolve(error ? { status: entryStatusOf(error) } : { status: entryStatusOf(null), response: response ?? undefined }),
          );
        }),
    );
    Promise.all(results).then((all) => callback(null, { results: all }));
  };
}
