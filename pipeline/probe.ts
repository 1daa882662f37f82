// Fault points inside the handlers. The simulator passes a probe that throws `InjectedCrash` at a
// chosen point, which models a worker process dying there: nothing after the point runs, the
// delivery is neither acked nor nacked, and the bus redelivers it after its ack deadline.

export type ProbePoint =
  | 'settle.received'
  | 'fanout.afterCount'
  | 'fanout.afterPage'
  | 'settle.beforeCommit'
  | 'settle.afterCommit'
  | 'settle.afterPublish'
  | 'notify.afterPublish'
  | 'postSettle.afterBonus'
  | 'postSettle.afterMark'
  | 'ranking.afterClaim'
  | 'ranking.afterPublish'
  | 'relay.afterPublish';

export const PROBE_POINTS: readonly ProbePoint[] = [
  'settle.received',
  'fanout.afterCount',
  'fanout.afterPage',
  'settle.beforeCommit',
  'settle.afterCommit',
  'settle.afterPublish',
  'notify.afterPublish',
  'postSettle.afterBonus',
  'postSettle.afterMark',
  'ranking.afterClaim',
  'ranking.afterPublish',
  'relay.afterPublish',
];

/** Called at each fault point with a label of the work item; throws to crash there. */
export type Probe = (point: ProbePoint, item: string) => void;

export const noProbe: Probe = () => {};

export class InjectedCrash extends Error {
  override readonly name = 'InjectedCrash';
  readonly point: ProbePoint;
  constructor(point: ProbePoint, item: string) {
    super(`injected crash at ${point} (${item})`);
    this.point = point;
  }
}

export function isInjectedCrash(e: unknown): e is InjectedCrash {
  return e instanceof InjectedCrash;
}
