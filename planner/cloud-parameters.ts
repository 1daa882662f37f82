// The figures of Google Cloud the planner uses for target google, each with the public page that
// states it and the date it was read, as editable defaults that every plan lists (docs/cloud-parameters.md).
// Two kinds: Google's published figures (limits, rated rates, quotas, the Node client's
// defaults) and the planner's own assumptions about this pipeline (bytes per notification,
// mutations per settled user...), which Google cannot state and are marked `assumed`.
// `raceday plan --params FILE.json` overrides any of them; the file is validated and every bad
// key or value is named.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { CostModel } from './contracts.ts';

/** The date every published figure below was read from its page. */
export const PARAMETERS_AS_OF = '2026-12-01';

export interface ParameterSource {
  readonly title: string;
  readonly url: string;
}

export interface CloudParameter {
  readonly value: number;
  readonly unit: string;
  readonly description: string;
  /** Where the figure is stated; `assumed` figures name what they were derived from instead. */
  readonly source: ParameterSource;
  /** The date the page was read (published figures) or the assumption made. */
  readonly asOf: string;
  readonly kind: 'published' | 'assumed';
  /** Set when a --params file replaced the default. */
  readonly overridden?: boolean;
}

const SPANNER_PERFORMANCE: ParameterSource = { title: 'Spanner: Performance overview', url: 'https://cloud.google.com/spanner/docs/performance' };
const SPANNER_COMPUTE: ParameterSource = { title: 'Spanner: Compute capacity, nodes, and processing units', url: 'https://cloud.google.com/spanner/docs/compute-capacity' };
const SPANNER_CPU: ParameterSource = { title: 'Spanner: CPU utilization metrics (alerts for high CPU utilization)', url: 'https://cloud.google.com/spanner/docs/cpu-utilization' };
const SPANNER_QUOTAS: ParameterSource = { title: 'Spanner: Quotas and limits (mutations per commit)', url: 'https://cloud.google.com/spanner/quotas' };
const PUBSUB_QUOTAS: ParameterSource = { title: 'Pub/Sub: Quotas and limits (publisher throughput per region)', url: 'https://cloud.google.com/pubsub/quotas' };
const PUBSUB_PRICING: ParameterSource = { title: 'Pub/Sub pricing (minimum billable volume per request)', url: 'https://cloud.google.com/pubsub/pricing' };
const PUBSUB_ORDERING: ParameterSource = { title: 'Pub/Sub: Order messages (publish throughput per ordering key)', url: 'https://cloud.google.com/pubsub/docs/ordering' };
const NODE_CLIENT: ParameterSource = {
  title: '@google-cloud/pubsub 5.3.1 for Node.js: build/src/default-options.js (subscriber flow control, publisher batching defaults)',
  url: 'https://github.com/googleapis/nodejs-pubsub/blob/main/src/default-options.ts',
};
const PIPELINE: ParameterSource = { title: 'assumed by the planner from this pipeline (backends/google transaction bodies, core/notification.ts)', url: 'docs/cloud-parameters.md#assumptions' };

const published = (value: number, unit: string, description: string, source: ParameterSource): CloudParameter => ({ value, unit, description, source, asOf: PARAMETERS_AS_OF, kind: 'published' });
const assumed = (value: number, unit: string, description: string): CloudParameter => ({ value, unit, description, source: PIPELINE, asOf: PARAMETERS_AS_OF, kind: 'assumed' });

const DEFAULTS = {
  spannerReadsPerSecondPerNode: published(22_500, 'reads/s', 'peak reads per node of a regional SSD instance (one node = 1,000 processing units), under optimal conditions', SPANNER_PERFORMANCE),
  spannerWritesPerSecondPerNode: published(3_500, 'writes/s', 'peak writes per node of a regional SSD instance (reads OR writes, not both at once), under optimal conditions', SPANNER_PERFORMANCE),
  spannerProcessingUnitsPerNode: published(1_000, 'processing units', 'processing units in one node', SPANNER_COMPUTE),
  spannerMaxCpuRegional: published(0.65, 'share of CPU', 'recommended maximum high-priority CPU utilisation of a regional instance', SPANNER_CPU),
  spannerMaxCpuMultiRegion: published(0.45, 'share of CPU', 'recommended maximum high-priority CPU utilisation per region of a dual- or multi-region instance', SPANNER_CPU),
  spannerMutationsPerCommitMax: published(80_000, 'mutations', 'mutations in one commit, indexes included (inserts and updates count each column they write)', SPANNER_QUOTAS),
  pubsubPublishMBpsLargeRegion: published(200, 'MB/s', 'default publisher throughput quota per region in the large regions (europe-west1, us-central1, us-east1): 12,000,000 kB per minute', PUBSUB_QUOTAS),
  pubsubPublishMBpsSmallRegion: published(50, 'MB/s', 'default publisher throughput quota per region in every other region: 3,000,000 kB per minute', PUBSUB_QUOTAS),
  pubsubMinBilledBytes: published(1_000, 'bytes', 'minimum volume assessed per publish, push or pull request, whatever the message size; the planner charges it per message (a conservative bound: the notify stage publishes per user)', PUBSUB_PRICING),
  pubsubOrderingKeyMBps: published(1, 'MB/s', 'maximum publish throughput of one ordering key', PUBSUB_ORDERING),
  subscriberMaxOutstandingMessages: published(1_000, 'messages', "the Node client's default subscriber flow control: messages held before the stream pauses", NODE_CLIENT),
  subscriberMaxOutstandingBytes: published(104_857_600, 'bytes', "the Node client's default subscriber flow control: bytes held before the stream pauses (100 MiB)", NODE_CLIENT),
  publisherBatchMaxMessages: published(100, 'messages', "the Node client's default publisher batch: messages per publish request", NODE_CLIENT),
  publisherBatchMaxBytes: published(1_048_576, 'bytes', "the Node client's default publisher batch: bytes per publish request (1 MiB)", NODE_CLIENT),
  publisherBatchMaxMilliseconds: published(10, 'ms', "the Node client's default publisher batch: the longest a message waits for its batch", NODE_CLIENT),
  // The planner's assumptions about this pipeline (not Google's figures).
  useLargeRegion: assumed(1, '1 = large region, 0 = other', 'the Pub/Sub region is one of the large regions (1) or another region (0): picks the publish quota'),
  multiRegion: assumed(0, '1 = multi-region, 0 = regional', 'the Spanner instance is regional (0) or dual/multi-region (1): picks the CPU ceiling'),
  notificationBytes: assumed(400, 'bytes', "bytes of one published message (a user's settled notification, a settle request, a settled event): data plus attributes"),
  publishedMessagesPerUser: assumed(3, 'messages', 'messages published per settled user: the settle request, the settled event and the notification'),
  rowWritesPerUser: assumed(8, 'row writes', 'rows written per settled user besides its tickets: balance, settlement, outbox, ledger (hits), day progress, post-settled marker, notification and its head'),
  rowWritesPerTicket: assumed(1, 'row writes', 'rows written per settled ticket (its status and payout)'),
  rowReadsPerUser: assumed(5, 'row reads', "reads per settled user: the user's tickets (one key range), the balance, the fan-out page share, and its stored settlement totals twice (post-settle's and notify's check of the settled message)"),
  mutationsPerUser: assumed(30, 'mutations', "mutations per settled user besides its tickets, counted per column written (balance 3, settlement 9, outbox 6, ledger ~6, day progress 6)"),
  mutationsPerTicket: assumed(9, 'mutations', 'mutations per settled ticket: the Tickets update writes 9 columns, keys included'),
  workersPerSubscriberClient: assumed(8, 'workers', 'stage workers one subscriber client (one process holding streaming pulls) serves'),
  socketsPerGatewayInstance: assumed(50_000, 'sockets', 'WebSocket subscribers one gateway instance holds (memory and one event loop)'),
} as const satisfies Record<string, CloudParameter>;

export type CloudParameterName = keyof typeof DEFAULTS;
export type CloudParameters = Readonly<Record<CloudParameterName, CloudParameter>>;
export const CLOUD_PARAMETER_NAMES = Object.keys(DEFAULTS) as CloudParameterName[];

export function defaultCloudParameters(): CloudParameters {
  return { ...DEFAULTS };
}

/** Values that are shares (0..1) or switches (0 or 1); the rest must be positive. */
const SHARES: ReadonlySet<CloudParameterName> = new Set(['spannerMaxCpuRegional', 'spannerMaxCpuMultiRegion']);
const SWITCHES: ReadonlySet<CloudParameterName> = new Set(['useLargeRegion', 'multiRegion']);

function valueSchema(name: CloudParameterName): z.ZodType<number> {
  if (SWITCHES.has(name)) return z.union([z.literal(0), z.literal(1)]);
  if (SHARES.has(name)) return z.number().gt(0).lte(1);
  return z.number().positive().refine(Number.isFinite, 'must be a finite number');
}

/** The --params file: any parameter by name, a number each; unknown names are refused. */
export const overridesSchema = z.strictObject(Object.fromEntries(CLOUD_PARAMETER_NAMES.map((n) => [n, valueSchema(n).optional()])) as Record<CloudParameterName, z.ZodOptional<z.ZodType<number>>>);
export type CloudParameterOverrides = Partial<Record<CloudParameterName, number>>;

export class ParametersError extends Error {
  override readonly name = 'ParametersError';
  readonly code = 'PLAN.PARAMS_INVALID';
}

/** Validates an overrides object; throws ParametersError listing every bad key. */
export function parseOverrides(value: unknown, source = 'parameters'): CloudParameterOverrides {
  const r = overridesSchema.safeParse(value);
  if (r.success) return r.data as CloudParameterOverrides;
  const lines = r.error.issues.slice(0, 20).map((i) => {
    if (i.code === 'unrecognized_keys') return `unknown parameter${i.keys.length === 1 ? '' : 's'} ${i.keys.map((k) => `"${k}"`).join(', ')} (known: ${CLOUD_PARAMETER_NAMES.join(', ')})`;
    return `${i.path.length === 0 ? '(file)' : i.path.join('.')}: ${i.message}`;
  });
  throw new ParametersError(`PLAN.PARAMS_INVALID: ${source} is invalid:\n  ${lines.join('\n  ')}`);
}

export function withOverrides(base: CloudParameters, overrides: CloudParameterOverrides): CloudParameters {
  const out: Record<string, CloudParameter> = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    out[name] = { ...(base[name as CloudParameterName] as CloudParameter), value, overridden: true };
  }
  return out as CloudParameters;
}

/** The defaults with a --params JSON file's values over them. */
export async function loadCloudParameters(path: string): Promise<CloudParameters> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ParametersError(`PLAN.PARAMS_INVALID: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ParametersError(`PLAN.PARAMS_INVALID: ${path} is not JSON: ${(e as Error).message}`);
  }
  return withOverrides(defaultCloudParameters(), parseOverrides(json, path));
}

/** Plain values by name: what the plan lists and the run record keeps. */
export function parameterValues(p: CloudParameters): Record<CloudParameterName, number> {
  return Object.fromEntries(CLOUD_PARAMETER_NAMES.map((n) => [n, p[n].value])) as Record<CloudParameterName, number>;
}

/** The publish quota in bytes per second of the configured region. */
export const publishQuotaBytesPerSecond = (p: CloudParameters): number => (p.useLargeRegion.value === 1 ? p.pubsubPublishMBpsLargeRegion.value : p.pubsubPublishMBpsSmallRegion.value) * 1e6;

/** The CPU share a plan may use on the configured Spanner instance. */
export const spannerCpuCeiling = (p: CloudParameters): number => (p.multiRegion.value === 1 ? p.spannerMaxCpuMultiRegion.value : p.spannerMaxCpuRegional.value);

/** Row writes one settled user costs Spanner, on average over the workload. */
export const rowWritesPerUser = (p: CloudParameters, ticketsPerUser: number): number => p.rowWritesPerUser.value + p.rowWritesPerTicket.value * ticketsPerUser;

/** Mutations one settled user adds to a commit, on average over the workload. */
export const mutationsPerUser = (p: CloudParameters, ticketsPerUser: number): number => p.mutationsPerUser.value + p.mutationsPerTicket.value * ticketsPerUser;

/**
 * A cost model for target google. Google publishes rates, not service times: the Spanner
 * parallelism comes from the node rates (the rated writes per node under the CPU ceiling), and
 * every per-operation cost is the measured emulator model's, which is an assumption (listed in
 * `sources`): real Spanner commits and Pub/Sub deliveries are not timed here. `ticketsPerUser`
 * sizes a settled user's row writes (default 10, the grand-prix preset's 20,000,000 / 2,000,000).
 */
export function googleCostModel(params: CloudParameters, measured?: CostModel, ticketsPerUser = 10): CostModel {
  const cpu = spannerCpuCeiling(params);
  const settle = measured?.operations['settle.commit'];
  // A node at its rated write rate holds (rate x service time) transactions in flight (Little's
  // law), so a predictor that treats a node as that many servers gets the rated throughput.
  const commitSeconds = settle === undefined ? 0.01 : Math.max(1e-4, (settle.baseUs + (settle.perUs['users'] ?? 0)) / 1e6);
  const usersPerSecondPerNode = (params.spannerWritesPerSecondPerNode.value * cpu) / Math.max(1, rowWritesPerUser(params, ticketsPerUser));
  const transactionsPerUnit = Math.max(1, Math.round(usersPerSecondPerNode * commitSeconds));
  return {
    schemaVersion: 1,
    target: 'google',
    measuredAt: measured?.measuredAt ?? `${PARAMETERS_AS_OF}T00:00:00Z`,
    sources: [
      `Spanner and Pub/Sub figures as published on ${PARAMETERS_AS_OF} (docs/cloud-parameters.md)`,
      measured === undefined
        ? 'ASSUMED: no measured model was given, so no per-operation service time is known; only rates and quotas bound the plan'
        : `ASSUMED: per-operation service times are the measured ${measured.target} model's (${measured.sources.join('; ')}); Google publishes none`,
    ],
    operations: { ...(measured?.operations ?? {}) },
    usl: [...(measured?.usl ?? [])],
    parallelism: {
      transactionsPerUnit,
      writesPerSecondPerNode: params.spannerWritesPerSecondPerNode.value,
      readsPerSecondPerNode: params.spannerReadsPerSecondPerNode.value,
      maxCpuShare: cpu,
    },
    calibratedMax: measured?.calibratedMax ?? { users: 0, tickets: 0 },
  };
}
