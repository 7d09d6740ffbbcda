import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

// A CommonJS module whose `module.exports` is the plugin: what an ES import's default is at run time.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

/** The parts of an OpenAPI 3.0 document the contract check reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
  components: { schemas: Record<string, unknown> };
}

const BASE = 'https://contract.test/openapi.json';
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/**
 * An OpenAPI 3.0 schema as JSON Schema for Ajv: `nullable: true` becomes "null, or the schema", `$ref`s point into
 * the registered document, annotations Ajv does not know are dropped, and objects with declared properties accept no
 * others (so an undocumented field in an answer is a contract breach, not silently allowed).
 */
export function toJsonSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (schema === null || typeof schema !== 'object') return schema;
  const { nullable, example: _example, examples: _examples, xml: _xml, externalDocs: _docs, discriminator: _discriminator, ...rest } = schema as Record<string, unknown>;
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (key === '$ref' && typeof value === 'string') converted.$ref = value.startsWith('#/') ? `${BASE}${value}` : value;
    else if (key === 'properties' && value && typeof value === 'object') {
      converted.properties = Object.fromEntries(Object.entries(value).map(([name, property]) => [name, toJsonSchema(property)]));
    } else if (key === 'enum' || key === 'required' || key === 'default') converted[key] = value;
    else converted[key] = toJsonSchema(value);
  }
  if (converted.properties !== undefined && converted.additionalProperties === undefined) converted.additionalProperties = false;
  return nullable === true ? { anyOf: [{ type: 'null' }, converted] } : converted;
}

/** Checks real answers against the responses an OpenAPI document declares for each operation. */
export class OpenApiContract {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: BASE, components: { schemas: toJsonSchema(document.components.schemas) } });
  }

  /** Every operation of the document as `METHOD /path/{template}`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => HTTP_METHODS.includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
  }

  /** The statuses the document declares for an operation. */
  statuses(method: string, path: string): string[] {
    return Object.keys(this.document.paths[path]?.[method.toLowerCase()]?.responses ?? {});
  }

  /**
   * What is wrong with an answer, as readable lines (empty when it matches): an operation the document does not
   * have, a status it does not declare for it, a JSON body where none is declared (or none where one is), or a body
   * that breaks the declared schema.
   */
  problems(method: string, path: string, status: number, contentType: string | null, body: unknown): string[] {
    const where = `${method} ${path} → ${status}`;
    const operation = this.document.paths[path]?.[method.toLowerCase()];
    if (!operation) return [`${where}: the document has no such operation`];
    const response = operation.responses[String(status)];
    if (!response) return [`${where}: status not declared (declared: ${Object.keys(operation.responses).join(', ')})`];
    const declared = response.content?.['application/json']?.schema;
    if (declared === undefined && response.content?.['text/plain'] && contentType?.startsWith('text/plain')) {
      return typeof body === 'string' && body !== '' ? [] : [`${where}: no text where the document declares text`];
    }
    if (declared === undefined) return body === null || body === '' ? [] : [`${where}: a body where the document declares none`];
    if (!contentType?.startsWith('application/json')) return [`${where}: content-type ${contentType} is not application/json`];
    const validate = this.validator(`${method} ${path} ${status}`, declared);
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(body)'} ${e.message} ${JSON.stringify(e.params)}`);
  }

  private validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.validators.get(key);
    if (!validate) this.validators.set(key, (validate = this.ajv.compile(toJsonSchema(schema) as object)));
    return validate;
  }
}
