// What every operation goes through before it runs, over HTTP and WebSocket alike: it parses, it
// validates against the schema, and it is within the depth and cost limits (limits.ts). Documents
// that passed are kept by query text (bounded): load drivers and apps send the same few
// operations with different variables, and parse + validate cost more than executing a bet.
import { getOperationAST, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { graphqlError } from './errors.ts';
import { checkOperation, type GatewayLimits } from './limits.ts';

/** Documents kept at most, and the longest query text kept. */
const VALIDATED_MAX = 512;
const VALIDATED_QUERY_CHARS_MAX = 4_096;
const validated = new WeakMap<GraphQLSchema, Map<string, DocumentNode>>();

function validDocument(schema: GraphQLSchema, query: string): readonly GraphQLError[] | DocumentNode {
  let cache = validated.get(schema);
  if (cache === undefined) validated.set(schema, (cache = new Map()));
  const known = cache.get(query);
  if (known !== undefined) return known;
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (e) {
    return [e instanceof GraphQLError ? e : new GraphQLError(String(e))];
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) return invalid;
  if (query.length <= VALIDATED_QUERY_CHARS_MAX) {
    if (cache.size >= VALIDATED_MAX) cache.clear();
    cache.set(query, document);
  }
  return document;
}

export const isErrors = (d: readonly GraphQLError[] | DocumentNode): d is readonly GraphQLError[] => Array.isArray(d);

/** The document once it parses and validates and is within the depth and cost limits; else the errors. */
export function checkedDocument(schema: GraphQLSchema, query: string, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>>, limits: GatewayLimits): readonly GraphQLError[] | DocumentNode {
  const document = validDocument(schema, query);
  if (isErrors(document)) return document;
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return [new GraphQLError('Unable to identify operation')];
  const checked = checkOperation(document, operation, variables, limits);
  if (!checked.ok) return [graphqlError(checked.error.code, checked.error.message)];
  return document;
}
