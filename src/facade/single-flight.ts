/**
 * Runs at most one `work` per key at a time: concurrent callers of the same key share the
 * first caller's promise. The entry is dropped when the promise settles, so a rejection is
 * not remembered.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>()

  run(key: string, work: () => Promise<T> | T): Promise<T> {
    const pending = this.inFlight.get(key)
    if (pending !== undefined) return pending
    let started: Promise<T> | T
    try {
      started = work()
    } catch (err) {
      return Promise.reject(err) // thrown synchronously: no other caller can be waiting
    }
    const promise = this.settle(key, started)
    this.inFlight.set(key, promise)
    return promise
  }

  /** The running flight of `key`, if any. */
  pending(key: string): Promise<T> | undefined {
    return this.inFlight.get(key)
  }

  get size(): number {
    return this.inFlight.size
  }

  private async settle(key: string, started: Promise<T> | T): Promise<T> {
    try {
      return await started
    } finally {
      this.inFlight.delete(key)
    }
  }
}
