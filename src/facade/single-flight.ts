/**
 * Runs at most one `load` per key at a time: concurrent callers of the same key share
 * the first caller's promise. The entry is dropped when the promise settles, so a
 * rejection is not remembered.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>()

  run(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.inFlight.get(key)
    if (pending !== undefined) return pending
    const promise = (async () => {
      try {
        return await load()
      } finally {
        this.inFlight.delete(key)
      }
    })()
    this.inFlight.set(key, promise)
    return promise
  }

  get size(): number {
    return this.inFlight.size
  }
}
