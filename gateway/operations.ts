// What every operation goes through before it runs, over HTTP and WebSocket alike: it parses
// (bounded in tokens), it is within the depth and cost limits (limits.ts), and it validates
// against the schema. Documents that passed are kept by query text (bounded): load drivers and
// apps send the same few operations with different variables, and parse + validate cost more
// than executing a bet.
import { getOperationAST, getVariableValues, GraphQLError, parse, validate, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { graphqlError } from './errors.ts';
import { checkOperation, type GatewayLimits } from './limits.ts';

/** Documents kept at most, and the longest query text kept. */
const VALIDATED_MAX = 512;
const VALIDATED_QUERY_CHARS_MAX = 4_096;
/**
 * Lexical tokens one document may have: parsing stops there. The frame and body limits bound the
 * text; this bounds the parser's work on it (a few thousand tokens is far beyond any real operation).
 */
export const DOCUMENT_TOKENS_MAX = 5_000;
const validated = new WeakMap<GraphQLSchema, Map<string, DocumentNode>>();

export const isErrors = (d: readonly GraphQLError[] | DocumentNode): d is readonly GraphQLError[] => Array.isArray(d);

/**
 * graphql's own errors (syntax, validation, variable coercion) carry no code; the gateway gives
 * each a stable one, so a client can switch on every refusal: GATEWAY.QUERY_INVALID for a
 * document it cannot run, INPUT.INVALID for variables of the wrong type, missing or unknown.
 */
function coded(code: string, errors: readonly GraphQLError[]): readonly GraphQLError[] {
  return errors.map((e) =>
    e.extensions['code'] !== undefined ? e : new GraphQLError(e.message, { nodes: e.nodes ?? null, source: e.source ?? null, positions: e.positions ?? null, path: e.path ?? null, originalError: e.originalError ?? null, extensions: { ...e.extensions, code } }),
  );
}

const errorsOf = (e: unknown): readonly GraphQLError[] => coded('GATEWAY.QUERY_INVALID', [e instanceof GraphQLError ? e : new GraphQLError(String(e))]);

/** The variables coerced as execution will coerce them: a refusal here names INPUT.INVALID. */
function variableErrors(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): readonly GraphQLError[] | undefined {
  const r = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 10 });
  return r.errors === undefined ? undefined : coded('INPUT.INVALID', r.errors);
}

/**
 * The document once it parses, is within the depth and cost limits, and validates; else the
 * errors. Depth and cost come before validation: they are linear in the document, while
 * validation can take most of a second on 60 KB of repeated fields (OverlappingFieldsCanBeMerged
 * compares them pairwise), time a hostile client would take from everyone's event loop.
 */
export function checkedDocument(schema: GraphQLSchema, query: string, operationName: string | null | undefined, variables: Readonly<Record<string, unknown>>, limits: GatewayLimits): readonly GraphQLError[] | DocumentNode {
  let cache = validated.get(schema);
  if (cache === undefined) validated.set(schema, (cache = new Map()));
  const known = cache.get(query);
  let document: DocumentNode;
  try {
    document = known ?? parse(query, { maxTokens: DOCUMENT_TOKENS_MAX });
  } catch (e) {
    return errorsOf(e);
  }
  const operation = getOperationAST(document, operationName);
  if (operation === null || operation === undefined) return coded('GATEWAY.QUERY_INVALID', [new GraphQLError('Unable to identify operation')]);
  // Variables change per request, so the cost (a list's `limit` may be a variable) is checked every time.
  const checked = checkOperation(document, operation, variables, limits);
  if (!checked.ok) return [graphqlError(checked.error.code, checked.error.message)];
  if (known !== undefined) return variableErrors(schema, operation, variables) ?? known;
  const invalid = validate(schema, document);
  if (invalid.length > 0) return coded('GATEWAY.QUERY_INVALID', invalid);
  const badVariables = variableErrors(schema, operation, variables);
  if (badVariables !== undefined) return badVariables;
  if (query.length <= VALIDATED_QUERY_CHARS_MAX) {
    if (cache.size >= VALIDATED_MAX) cache.clear();
    cache.set(query, document);
  }
  return document;
}
