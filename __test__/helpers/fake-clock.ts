/** A manual clock in milliseconds, for TTL tests without waiting. */
export class FakeClock {
  constructor(public time = 1_000) {}
  readonly now = (): number => this.time
  advance(ms: number): void {
    this.time += ms
  }
}
