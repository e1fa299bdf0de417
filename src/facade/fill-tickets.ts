/**
 * A load that started before a write of its key must not store its result after that write:
 * it read the source before the change, so it would bring back the value an invalidate() or a
 * set() just replaced (getUser loading while updateUser writes and invalidates). Every load
 * takes a ticket of its key when it starts; a set, setMany, invalidate or clear of the cache
 * marks the tickets of the keys it touches, and a marked load returns its value to its callers
 * without writing it. Loads that start after the write take a new ticket and are stored.
 *
 * Per cache, in this process. Another process's write (a TieredCache's invalidation message,
 * another instance's RedisCache) does not mark the tickets here.
 */
export interface FillTicket {
  /** The key was written or removed after the load started: its result is not stored. */
  superseded: boolean
  /** Loads holding this ticket (getOrSet and cached() functions of one key share it). */
  holders: number
}

export class FillTickets {
  private readonly open = new Map<string, FillTicket>()
  /** Keys with a load in flight: a plain field, so a write checks it without a call (the set path is hot). */
  active = 0

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

  /** `key` was set or removed now (callers check `active` first). */
  supersede(key: string): void {
    const ticket = this.open.get(key)
    if (ticket === undefined) return
    ticket.superseded = true
    this.open.delete(key)
    this.active = this.open.size
  }

  supersedeMany(entries: readonly (readonly [string, ...unknown[]])[]): void {
    for (const entry of entries) this.supersede(entry[0])
  }

  /** The cache was cleared now. */
  supersedeAll(): void {
    for (const ticket of this.open.values()) ticket.superseded = true
    this.open.clear()
    this.active = 0
  }
}
