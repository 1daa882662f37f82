// The subscriptions' fast path. graphql-js would re-execute the selection for every frame of
// every subscriber; here the frame's payload already is the value (a Notification or an Odds), so a
// subscription compiles its selection once into a list of (response key, field) pairs, and each
// frame is projected and serialised once per distinct selection and shared by every subscriber
// that asked for the same fields (10,000 watchers of one race cost one of each per odds frame).
import {
  getArgumentValues,
  getDirectiveValues,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type SelectionSetNode,
} from 'graphql';
import type { Outbound, SubscriberQueue } from './contracts.ts';
import { graphqlError } from './errors.ts';
import { RawJson } from './raw-json.ts';

/** What the gateway opens for one subscription: the frames to yield, ended by `end()`. */
export interface OpenedSource {
  readonly frames: AsyncIterable<Outbound>;
  /** Called once when the subscription ends (completed by the client, socket closed, or the source ended). */
  end(): void;
}

/** Opens the source of a subscription field for the caller, or refuses it with a GraphQL error. */
export type OpenSource = (field: 'notifications' | 'odds', args: Readonly<Record<string, unknown>>, context: unknown) => Promise<OpenedSource | GraphQLError>;

type Pair = readonly [responseKey: string, fieldName: string];

function included(node: FieldNode | { directives?: FieldNode['directives'] }, vars: Record<string, unknown>): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, vars);
  if (skip?.['if'] === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, vars);
  return include?.['if'] !== false;
}

/** The leaf fields a selection asks of `type`, in order, with fragments and @skip/@include applied. */
function collectPairs(set: SelectionSetNode, type: GraphQLObjectType, fragments: ReadonlyMap<string, FragmentDefinitionNode>, vars: Record<string, unknown>, out: Pair[]): void {
  for (const sel of set.selections) {
    if (!included(sel, vars)) continue;
    if (sel.kind === Kind.FIELD) {
      const key = sel.alias?.value ?? sel.name.value;
      if (!out.some(([k]) => k === key)) out.push([key, sel.name.value]);
    } else {
      const frag = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
      if (frag === undefined) continue;
      if (frag.typeCondition !== undefined && frag.typeCondition.name.value !== type.name) continue;
      collectPairs(frag.selectionSet, type, fragments, vars, out);
    }
  }
}

function project(value: Readonly<Record<string, unknown>>, pairs: readonly Pair[], typeName: string): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [key, field] of pairs) o[key] = field === '__typename' ? typeName : value[field];
  return o;
}

/**
 * The frames of one subscription as graphql-ws consumes them: an async generator of execution
 * results. `return()` (client complete, socket closed) ends the source at once.
 */
interface StreamShape {
  readonly rootKey: string;
  /** The selection as a key: subscriptions with the same one share a frame's projection. */
  readonly shape: string;
  readonly pairs: readonly Pair[];
  readonly typeName: string;
  readonly cache: WeakMap<object, { shape: string; result: ExecutionResult }>;
}

function resultStream(source: OpenedSource, s: StreamShape): AsyncGenerator<ExecutionResult> {
  const { rootKey, shape, pairs, typeName, cache } = s;
  const it = source.frames[Symbol.asyncIterator]();
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    source.end();
  };
  const done = { done: true as const, value: undefined };
  const gen: AsyncGenerator<ExecutionResult> = {
    async next() {
      if (ended) return done;
      const r = await it.next();
      if (r.done === true || ended) {
        finish();
        return done;
      }
      const frame = r.value;
      // One projection and one serialisation per frame and selection: subscribers with the same
      // selection share them (graphql-ws only reads the result to serialise it; raw-json.ts).
      const hit = cache.get(frame);
      if (hit !== undefined && hit.shape === shape) return { done: false, value: hit.result };
      const projected = project(frame.payload as Record<string, unknown>, pairs, typeName);
      const result: ExecutionResult = { data: { [rootKey]: new RawJson(JSON.stringify(projected)) as unknown } };
      cache.set(frame, { shape, result });
      return { done: false, value: result };
    },
    async return() {
      finish();
      await it.return?.();
      return done;
    },
    async throw(e: unknown) {
      finish();
      await it.return?.();
      throw e;
    },
    [Symbol.asyncIterator]() {
      return gen;
    },
    async [Symbol.asyncDispose]() {
      await gen.return(undefined);
    },
  };
  return gen;
}

/**
 * graphql-ws's `subscribe` option: validates the root field's arguments as graphql-js would,
 * opens the source and returns the projected stream (or `{ errors }` when refused).
 */
export function createFastSubscribe(open: OpenSource): (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const cache = new WeakMap<object, { shape: string; result: ExecutionResult }>();
  return async (args) => {
    const { schema, document } = args;
    const operation = getOperationAST(document as DocumentNode, args.operationName);
    const root = schema.getSubscriptionType();
    if (operation === null || operation === undefined || root === null || root === undefined) return { errors: [new GraphQLError('no subscription operation to run')] };
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], (args.variableValues ?? {}) as Record<string, unknown>);
    if (coerced.errors !== undefined) return { errors: coerced.errors };
    const vars = coerced.coerced;
    // Validation (SingleFieldSubscriptionsRule) has made sure there is exactly one root field.
    const node = operation.selectionSet.selections[0];
    if (node?.kind !== Kind.FIELD || (node.name.value !== 'notifications' && node.name.value !== 'odds')) {
      return { errors: [graphqlError('GATEWAY.NOT_SUPPORTED', 'subscribe to notifications or odds with a plain field')] };
    }
    const fieldDef = root.getFields()[node.name.value];
    if (fieldDef === undefined) return { errors: [new GraphQLError(`unknown subscription field ${node.name.value}`)] };
    let fieldArgs: Record<string, unknown>;
    try {
      fieldArgs = getArgumentValues(fieldDef, node, vars);
    } catch (e) {
      return { errors: [e instanceof GraphQLError ? e : new GraphQLError(String(e))] };
    }
    const type = (fieldDef.type as { ofType: GraphQLObjectType }).ofType;
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of (document as DocumentNode).definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    const pairs: Pair[] = [];
    if (node.selectionSet !== undefined) collectPairs(node.selectionSet, type, fragments, vars, pairs);
    let source: OpenedSource | GraphQLError;
    try {
      source = await open(node.name.value, fieldArgs, args.contextValue);
    } catch (e) {
      // The store could not be read (a remote backend down): this subscription fails, the connection stays.
      return { errors: [graphqlError('GATEWAY.UNAVAILABLE', `the subscription could not start: ${(e as Error).message}`)] };
    }
    if (source instanceof GraphQLError) return { errors: [source] };
    const rootKey = node.alias?.value ?? node.name.value;
    return resultStream(source, { rootKey, shape: `${rootKey}|${pairs.map((p) => p.join(':')).join(',')}`, pairs, typeName: type.name, cache });
  };
}

/** A queue as a frame source (or `frames` read from it, e.g. the recovery sequencer): ending it closes the queue and removes it from the dispatcher. */
export function queueSource(queue: SubscriberQueue, remove: () => void, frames: AsyncIterable<Outbound> = queue): OpenedSource {
  return {
    frames,
    end() {
      queue.close();
      remove();
    },
  };
}
