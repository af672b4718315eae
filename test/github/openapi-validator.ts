import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** A JSON schema as GitHub's OpenAPI 3.0 description writes them (the subset it uses). */
interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

interface Parameter {
  $ref?: string;
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: Schema;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
}

interface Route {
  template: string;
  segments: string[];
  literals: number;
  operations: Record<string, Operation>;
}

const require = createRequire(import.meta.url);
const spec = JSON.parse(readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8")) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema>; parameters: Record<string, Parameter> };
};

const routes: Route[] = Object.entries(spec.paths).map(([template, operations]) => {
  const segments = template.split("/").slice(1);
  return { template, segments, literals: segments.filter((s) => !s.startsWith("{")).length, operations };
});

function resolve<T extends { $ref?: string }>(node: T): T {
  let current = node;
  while (current.$ref) {
    const path = current.$ref.replace(/^#\//, "").split("/");
    current = path.reduce<any>((object, key) => object[key], spec) as T;
  }
  return current;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/**
 * Every way `value` breaks `schema`, as `where: what` strings. Unknown properties are
 * errors (they catch misspelt parameters), except inside oneOf/anyOf alternatives, which
 * list only the properties they constrain.
 */
function check(value: unknown, schema: Schema, where: string, strict = true): string[] {
  schema = resolve(schema);
  const errors: string[] = [];
  for (const part of schema.allOf ?? []) errors.push(...check(value, part, where, strict));
  const options = schema.oneOf ?? schema.anyOf;
  if (options) {
    const results = options.map((s) => check(value, s, where, false));
    if (results.every((r) => r.length > 0)) errors.push(`${where}: matches none of ${options.length} alternatives (${results.map((r) => r[0]).join(" | ")})`);
  }
  if (value === null && schema.nullable) return errors;
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  const actual = typeOf(value);
  if (types.length > 0 && !types.includes(actual) && !(actual === "integer" && types.includes("number"))) {
    return [...errors, `${where}: expected ${types.join(" or ")}, got ${actual} ${JSON.stringify(value)?.slice(0, 60)}`];
  }
  if (schema.enum && !schema.enum.includes(value)) return [...errors, `${where}: expected one of ${JSON.stringify(schema.enum)}, got ${JSON.stringify(value)}`];
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${where}: ${value} < minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${where}: ${value} > maximum ${schema.maximum}`);
  }
  if (typeof value === "string") {
    if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${where}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength) errors.push(`${where}: longer than ${schema.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${where}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) errors.push(`${where}: more than ${schema.maxItems} items`);
    if (schema.items) value.forEach((item, i) => errors.push(...check(item, schema.items!, `${where}[${i}]`, strict)));
  }
  if (actual === "object") {
    const record = value as Record<string, unknown>;
    for (const key of schema.required ?? []) if (!(key in record)) errors.push(`${where}: missing required \`${key}\``);
    for (const [key, item] of Object.entries(record)) {
      const property = schema.properties?.[key];
      if (property) errors.push(...check(item, property, `${where}.${key}`, strict));
      else if (typeof schema.additionalProperties === "object") errors.push(...check(item, schema.additionalProperties, `${where}.${key}`, strict));
      else if (schema.additionalProperties === false || (strict && schema.properties && !schema.additionalProperties)) {
        errors.push(`${where}: unknown property \`${key}\``);
      }
    }
  }
  return errors;
}

/** A query or path value (always a string on the wire) against its parameter schema. */
function checkParameter(raw: string, parameter: Parameter): string[] {
  const schema = resolve(parameter.schema);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const where = `${parameter.in} parameter \`${parameter.name}\``;
  if (type === "integer" && !/^-?\d+$/.test(raw)) return [`${where}: expected an integer, got ${JSON.stringify(raw)}`];
  if (type === "boolean" && raw !== "true" && raw !== "false") return [`${where}: expected a boolean, got ${JSON.stringify(raw)}`];
  const value = type === "integer" ? Number(raw) : type === "boolean" ? raw === "true" : raw;
  return type === "array" ? [] : check(value, schema, where);
}

/** The route GitHub would serve for a method and a path: the matching template with the most literal segments. */
function findRoute(method: string, path: string): { route: Route; operation: Operation; params: Record<string, string> } | null {
  const segments = path.split("/").slice(1);
  let best: { route: Route; operation: Operation; params: Record<string, string> } | null = null;
  for (const route of routes) {
    const operation = route.operations[method];
    if (!operation || route.segments.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = route.segments.every((s, i) => {
      if (s.startsWith("{")) return (params[s.slice(1, -1)] = decodeURIComponent(segments[i]!)) !== "";
      return s === segments[i];
    });
    if (matches && (!best || route.literals > best.route.literals)) best = { route, operation, params };
  }
  return best;
}

/**
 * Checks a REST request against GitHub's OpenAPI description: the endpoint exists, the
 * path and query parameters are declared and well typed, required ones are present, and
 * the JSON body fits the request schema (no unknown or missing properties, right types).
 *
 * @returns the operation id and every problem, empty when GitHub would accept the request's shape.
 */
export function validateRequest(method: string, url: string, body: unknown): { operationId: string | null; errors: string[] } {
  const parsed = new URL(url, "https://api.github.com");
  const found = findRoute(method.toLowerCase(), parsed.pathname);
  if (!found) return { operationId: null, errors: [`GitHub has no endpoint ${method} ${parsed.pathname}`] };
  const { operation, params, route } = found;
  const errors: string[] = [];
  const parameters = [...(spec.paths[route.template]!.parameters as unknown as Parameter[] | undefined ?? []), ...(operation.parameters ?? [])].map(resolve);
  for (const parameter of parameters) {
    if (parameter.in === "path") errors.push(...checkParameter(params[parameter.name] ?? "", parameter));
    if (parameter.in === "query") {
      const raw = parsed.searchParams.get(parameter.name);
      if (raw === null && parameter.required) errors.push(`query parameter \`${parameter.name}\` is required`);
      if (raw !== null) errors.push(...checkParameter(raw, parameter));
    }
  }
  for (const key of parsed.searchParams.keys()) {
    if (!parameters.some((p) => p.in === "query" && p.name === key)) errors.push(`query parameter \`${key}\` is not declared`);
  }
  const schema = operation.requestBody?.content["application/json"]?.schema;
  if (body !== undefined && !schema) errors.push("a body was sent to an endpoint that takes none");
  if (body === undefined && operation.requestBody?.required) errors.push("the required body is missing");
  if (body !== undefined && schema) errors.push(...check(body, schema, "body"));
  return { operationId: operation.operationId, errors };
}
