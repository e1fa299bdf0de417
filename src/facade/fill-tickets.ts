/**
 * A load that started before a write of its key must not store its result after that write:
 * it read the source before the change, so it would bring back the value an invalidate() or a
 * set() just replaced (getUser loading while updateUser writes and invalidates). Every load
 * takes a ticket of its key when it starts; a set, setMany, invalidate or clear of the cache
 * marks the tickets of the keys it touches, and a marked load returns its value to its callers
 * without writing it. Loads that start after the write take a new ticket and are stored.
 *
 * Per cache, in this process; a TieredCache also marks them for another instance's
 * invalidation message (StoreOwner.supersede). A RedisCache does not hear other writers.
 */
export interface FillTicket {
  /** The key was written or removed after the load started: its result is not stored. */
  superseded: boolean
  /** Loads holding this ticket (getOrSet and cached() functions of one key share it). */
  holders: number
}

export class FillTickets {
  private readonly open = new Map<string, FillTicket>()
  /** Keys with a load in flight: a plain field, so a write checks it cheaply (the set path is hot). */
  private active = 0

  begin(key: string): FillTicket {
    let ticket = this.open.get(key)
    if (ticket === undefined) {
      ticket = { superseded: false, holders: 0 }
      this.open.set(key, ticket)
      this.active = this.open.size
    }
    ticket.holders++
    return ticket
  }

  end(key: string, ticket: FillTicket): void {
    if (--ticket.holders === 0 && this.open.get(key) === ticket) {
      this.open.delete(key)
      this.active = this.open.size
    }
  }

  /** `key` was set or removed now. Called on every write: costs one field check while no load runs. */
  supersede(key: string): void {
    if (this.active === 0) return
    const ticket = this.open.get(key)
    if (ticket === undefined) return
    ticket.superseded = true
    this.open.delete(key)
    this.active = this.open.size
  }

  supersedeMany(entries: readonly (readonly [string, ...unknown[]])[]): void {
    if (this.active === 0) return
    for (const entry of entries) this.supersede(entry[0])
  }

  supersedeKeys(keys: readonly string[]): void {
    if (this.active === 0) return
    for (const key of keys) this.supersede(key)
  }

  /** The cache was cleared now. */
  supersedeAll(): void {
    if (this.active === 0) return
    for (const ticket of this.open.values()) ticket.superseded = true
    this.open.clear()
    this.active = 0
  }
}
