/** Test utilities for the Clock port (product code uses systemClock or FixedClock). */
import type { Clock } from "./clock.ts";

/** A clock tests move by hand (the Clock port's fake). */
export class FakeClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}
