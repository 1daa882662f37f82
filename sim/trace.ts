// The event log of one simulated run. Every line is fed to a SHA-256 as it is written, so replaying
// a seed can be compared byte for byte by its hash without keeping the lines; `keep` keeps them
// for `raceday sim --trace`.
import { createHash, type Hash } from 'node:crypto';

/** Lines kept at most with `keep` (a smoke run writes a few thousand). */
const KEPT_LINES_MAX = 1_000_000;

export class Trace {
  private readonly hash: Hash = createHash('sha256');
  readonly lines: string[] = [];
  private readonly keep: boolean;
  events = 0;

  constructor(keep: boolean) {
    this.keep = keep;
  }

  add(line: string): void {
    this.events++;
    this.hash.update(line);
    this.hash.update('\n');
    if (this.keep && this.lines.length < KEPT_LINES_MAX) this.lines.push(line);
  }

  /** Hex digest; call once, at the end of the run. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
