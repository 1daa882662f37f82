// TEST ADAPTER, not k6: k6/metrics stand-ins. Every sample is kept (tests are small) in one
// registry the runner summarises and checks thresholds against.

export type MetricType = 'trend' | 'counter' | 'rate' | 'gauge';

export interface MetricSamples {
  readonly type: MetricType;
  readonly values: number[];
}

export const registry = new Map<string, MetricSamples>();

function samples(name: string, type: MetricType): MetricSamples {
  const existing = registry.get(name);
  if (existing !== undefined) return existing;
  const created: MetricSamples = { type, values: [] };
  registry.set(name, created);
  return created;
}

abstract class Metric {
  readonly name: string;
  protected readonly store: MetricSamples;
  constructor(name: string, type: MetricType) {
    this.name = name;
    this.store = samples(name, type);
  }
  add(value: number | boolean, _tags?: Record<string, string>): void {
    this.store.values.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }
}

export class Trend extends Metric {
  constructor(name: string, _isTime?: boolean) {
    super(name, 'trend');
  }
}
export class Counter extends Metric {
  constructor(name: string) {
    super(name, 'counter');
  }
}
export class Rate extends Metric {
  constructor(name: string) {
    super(name, 'rate');
  }
}
export class Gauge extends Metric {
  constructor(name: string) {
    super(name, 'gauge');
  }
}

/** Built-in metric names the http stand-in records, as k6 does. */
export const builtin = {
  httpReqDuration: new Trend('http_req_duration', true),
  httpReqFailed: new Rate('http_req_failed'),
  httpReqs: new Counter('http_reqs'),
};
