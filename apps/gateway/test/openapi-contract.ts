import addFormats from 'ajv-formats';
import OpenAPIBackend, { Document, Operation, SetMatchType, ValidationContext } from 'openapi-backend';

/** One HTTP exchange as a test saw it. */
export interface Exchange {
  method: string;
  /** The request path, with its query string if any. */
  path: string;
  status: number;
  headers: Headers;
  /** The raw response body. */
  text: string;
}

/** Headers of HTTP itself; any other header a response carries must be documented for it. */
const TRANSPORT_HEADERS = new Set(['content-type', 'content-length', 'date', 'connection', 'keep-alive', 'transfer-encoding', 'vary']);

/** Served by the gateway but not operations of the API: the document itself and Swagger UI's pages. */
const UNDOCUMENTED = [/^\/openapi\.json$/, /^\/docs(\/|$)/];

type Check = (exchange: Exchange) => string[];
interface ResponseObject {
  content?: Record<string, { schema?: object }>;
}

/**
 * Checks responses against the gateway's OpenAPI document with openapi-backend (routing to the
 * operation, response headers) and its Ajv (bodies of every documented media type, formats included):
 * the status is listed for the operation, the media type is one it documents, the body matches that
 * media type's schema, every required header is present and valid, and every header the response
 * carries beyond HTTP's own is documented. A path that is no operation
 * must answer a problem+json 4xx. Returns what differs, empty when the response is as documented.
 */
export async function openApiResponseChecker(document: object): Promise<Check> {
  // A copy: init() dereferences the definition in place.
  const api = new OpenAPIBackend({ definition: structuredClone(document) as Document, strict: true, quick: false, customizeAjv: (ajv) => addFormats(ajv) });
  await api.init();
  const ajv = api.validator.getAjv(ValidationContext.Response);
  const problemSchema = (api.definition.components?.schemas as Record<string, object>).Problem!;
  const compiled = new Map<object, ReturnType<typeof ajv.compile>>();
  const validatorFor = (schema: object) => {
    let validate = compiled.get(schema);
    if (!validate) compiled.set(schema, (validate = ajv.compile(schema)));
    return validate;
  };
  const bodyErrors = (schema: object, value: unknown) => {
    const validate = validatorFor(schema);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
  };
  const parse = (mediaType: string, text: string): { value?: unknown; error?: string } => {
    if (!/[/+]json$/.test(mediaType)) return { value: text };
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { error: `the body is not the JSON its media type ${mediaType} promises: ${text.slice(0, 80)}` };
    }
  };

  return (exchange) => {
    const [pathname = '', query = ''] = exchange.path.split('?');
    const mediaType = (exchange.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const operation = api.matchOperation({ method: exchange.method.toLowerCase(), path: pathname, query, headers: {} }) as Operation | undefined;
    if (!operation) {
      if (UNDOCUMENTED.some((pattern) => pattern.test(pathname))) return [];
      if (exchange.status < 400 || exchange.status >= 500)
        return [`${exchange.status} for a path that is no operation of the document (expected a 4xx problem)`];
      if (mediaType !== 'application/problem+json')
        return [`media type ${mediaType || '(none)'}, not application/problem+json, for a path that is no operation`];
      const parsed = parse(mediaType, exchange.text);
      return parsed.error ? [parsed.error] : bodyErrors(problemSchema, parsed.value);
    }
    const responses = operation.responses as Record<string, ResponseObject>;
    const documented = responses[String(exchange.status)] ?? responses[`${String(exchange.status)[0]}XX`] ?? responses.default;
    if (!documented) return [`status ${exchange.status} is not documented for ${operation.operationId} (documented: ${Object.keys(responses).join(', ')})`];
    const problems: string[] = [];
    if (!documented.content) {
      if (exchange.text) problems.push(`a body was sent but the response documents none`);
    } else {
      const content = documented.content[mediaType];
      if (!content)
        problems.push(
          `media type ${mediaType || '(none)'} is not documented for ${exchange.status} (documented: ${Object.keys(documented.content).join(', ')})`,
        );
      else if (content.schema) {
        const parsed = parse(mediaType, exchange.text);
        problems.push(...(parsed.error ? [parsed.error] : bodyErrors(content.schema, parsed.value)));
      }
    }
    const headers = Object.fromEntries(exchange.headers.entries());
    const documentedHeaders = new Set(Object.keys((documented as { headers?: object }).headers ?? {}).map((name) => name.toLowerCase()));
    for (const name of Object.keys(headers))
      if (!TRANSPORT_HEADERS.has(name) && !documentedHeaders.has(name)) problems.push(`header ${name} is sent but not documented for ${exchange.status}`);
    const headerCheck = api.validator.validateResponseHeaders(headers, operation, { statusCode: exchange.status, setMatchType: SetMatchType.Superset });
    for (const e of headerCheck.errors ?? []) problems.push(`header${e.instancePath.replace(/^\/headers/, '')} ${e.message}`);
    return problems.map((p) => `${operation.operationId}: ${p}`);
  };
}

/** Throws naming the method, path, status and each difference when a response is not as documented. */
export function assertDocumented(check: Check, exchange: Exchange): void {
  const problems = check(exchange);
  if (problems.length > 0) {
    const what = `${exchange.method} ${exchange.path} -> ${exchange.status}`;
    throw new Error(`${what} does not match /openapi.json:\n  ${problems.join('\n  ')}\n  body: ${exchange.text.slice(0, 300)}`);
  }
}
