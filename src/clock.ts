/** The Clock port: the only source of "now" outside events (invariant 3). */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * A clock that stands at one time: offline runs (`bm replay`, rule tests)
 * whose time comes from their events; the engine asks it only when seeding.
 */
export class FixedClock implements Clock {
  constructor(private readonly t: number) {}
  now(): number {
    return this.t;
  }
}
