import type { LoaderTimers } from '../../src/facade/loader-timers'
import type { FakeClock } from './fake-clock'

/**
 * Manual timers for the loader timeouts (given to a cache under LOADER_TIMERS): nothing fires
 * until advance(), which also moves the FakeClock it was given, so TTLs and timeouts share one time.
 */
export class FakeTimers implements LoaderTimers {
  private now = 0
  private nextId = 1
  private readonly due = new Map<number, { at: number; fire: () => void }>()

  constructor(private readonly clock?: FakeClock) {}

  start(fire: () => void, ms: number): unknown {
    const id = this.nextId++
    this.due.set(id, { at: this.now + ms, fire })
    return id
  }

  clear(handle: unknown): void {
    this.due.delete(handle as number)
  }

  /** Timers started and neither fired nor cleared. */
  get pending(): number {
    return this.due.size
  }

  /** Moves time forward by `ms`, firing the timers that fall due, earliest first. */
  advance(ms: number): void {
    const target = this.now + ms
    for (;;) {
      let next: [number, { at: number; fire: () => void }] | undefined
      for (const entry of this.due) if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry
      if (next === undefined) break
      this.due.delete(next[0])
      this.clock?.advance(next[1].at - this.now)
      this.now = next[1].at
      next[1].fire()
    }
    this.clock?.advance(target - this.now)
    this.now = target
  }
}
