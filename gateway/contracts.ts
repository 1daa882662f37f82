// The seams between the gateway's parts, fixed first so the server, the delivery policies, the
// intakes and the load drivers can be built side by side. A frame travels:
//   intake (bus subscription or Redis channel) -> dispatcher -> policy's per-subscriber queue ->
//   graphql-ws (which sends a subscription's next frame only once its previous send finished) -> socket.
// Only the policy decides what happens when a subscriber cannot keep up.
import type { NotificationBody } from '../core/notification.ts';

/** A frame the gateway owes subscribers: one user's notification or one race's odds. */
export interface Outbound {
  readonly kind: 'notification' | 'odds';
  readonly raceId: string;
  /** The user a notification is for (absent for odds, which go to every watcher of the race). */
  readonly userId?: string;
  /** The per-user sequence number of a notification (1, 2, ... per user; absent for odds). */
  readonly seq?: number;
  /** The value the GraphQL subscription yields for this frame. */
  readonly payload: unknown;
  /** Serialised size in bytes, for byte caps, queue metrics and the bare-send baseline. */
  readonly bytes: number;
  /** When the frame entered the gateway (intake receipt, or the odds tick), ms since the epoch. */
  readonly enteredAtMs: number;
  /** When what it reports happened: the race result's publication, or the odds frame's send time. */
  readonly originAtMs: number;
}

/** The socket under one subscription, as a policy sees it. */
export interface SocketPort {
  /** Bytes handed to the socket and not yet to the kernel (ws `bufferedAmount`). */
  bufferedBytes(): number;
  /** Resolves once `bufferedBytes()` is at or below `lowWaterBytes`, or the socket closed. */
  whenBelow(lowWaterBytes: number): Promise<void>;
  /** Closes the connection with a WebSocket close code (4000-4999) and a reason, e.g. 4008 "slow consumer". */
  close(code: number, reason: string): void;
  readonly isOpen: boolean;
}

/** One subscription's identity, handed to the policy when graphql-ws starts it. */
export interface SubscriberInfo {
  /** Unique per subscription (connection id + subscription id). */
  readonly id: string;
  readonly userId: string;
  readonly socket: SocketPort;
}

/**
 * A subscription's queue: the policy's per-subscriber buffer. graphql-ws consumes it as the
 * subscription's async iterator; the dispatcher feeds it with `offer`.
 */
export interface SubscriberQueue extends AsyncIterable<Outbound> {
  /**
   * Offers a frame. Every policy but `shared-blocking` returns at once (void): no dispatcher
   * ever awaits one socket. `shared-blocking` may return a promise the dispatcher awaits.
   */
  offer(out: Outbound): void | Promise<void>;
  /** Frames and bytes queued and not yet taken by graphql-ws. */
  depth(): { readonly messages: number; readonly bytes: number };
  /** Ends the iterator (the subscription completed or its socket closed). */
  close(): void;
}

export interface PolicyStats {
  /** Frames dropped by the policy (drop-oldest, shared-blocking's send timeout). */
  readonly drops: number;
  /** Subscribers closed by the policy (evict-after, bytes cap). */
  readonly evictions: number;
  /** Time from a subscriber's first sign of falling behind to its eviction, per eviction (ms). */
  readonly timeToEvictMs: readonly number[];
  readonly maxQueueMessages: number;
  readonly maxQueueBytes: number;
}

/** The intake in front of the dispatcher: unbounded, or the incident's bounded shared channel. */
export interface IntakeShape {
  /** Messages the shared intake buffer holds (undefined: no shared bound). */
  readonly capacity?: number;
  /** How long a send into a full intake waits before the message is dropped ("channel is full"). */
  readonly sendTimeoutMs?: number;
}

/** One delivery policy (`--policy NAME`), a small module behind this interface. */
export interface DeliveryPolicy {
  /** The spec it was parsed from, e.g. `per-subscriber:256:evict-after:1000`. */
  readonly name: string;
  readonly intake: IntakeShape;
  queueFor(sub: SubscriberInfo): SubscriberQueue;
  stats(): PolicyStats;
  /**
   * Counts a frame the bounded intake channel dropped when its send timeout expired, so `stats()`
   * includes it (only policies with a bounded `intake` have it; the dispatcher calls it).
   */
  recordIntakeDrop?(): void;
}

/** A notification as the gateway receives it from its intake. */
export interface IntakeMessage {
  readonly body: NotificationBody;
  readonly receivedAtMs: number;
  /** Settles the message with its source (acks a Pub/Sub message; no-op for Redis). */
  done(): void;
}

/** Where a gateway instance's notifications come from (`--intake bus|pubsub|redis`). */
export interface NotificationIntake {
  /** Starts consuming; `onMessage` may return a promise, and the intake then waits for it (backpressure). */
  start(onMessage: (m: IntakeMessage) => void | Promise<void>): Promise<void>;
  close(): Promise<void>;
}
