// Imported, not the global: the global `performance` is a lazy getter, paid on every call.
import { performance } from 'node:perf_hooks'
import { TimeoutError } from '../errors'

/**
 * One call in flight. Linked into its Deadlines list until it settles (`Deadlines.settle`)
 * or expires (the sweep unlinks it, then calls `expire`).
 */
export interface Deadline {
  /** performance.now() after which the call has timed out. */
  readonly at: number
  /** The budget, for the TimeoutError message. */
  readonly ms: number
  /** Called once, by the sweep, when the call has not settled in time. */
  expire(err: Error): void
  prev: Deadline | null
  next: Deadline | null
  linked: boolean
}

/**
 * Bounds many in-flight calls with one shared timer instead of a setTimeout per call (which
 * measurably slowed every Redis get). Calls are kept in an intrusive doubly linked list and
 * unlinked the moment they settle, so only calls still in flight are retained (a queue swept
 * every `resolutionMs` kept every finished call alive until the sweep: GC pressure).
 * Deadlines arrive almost in order (same timeout for all), so the sweep stops at the first one
 * not yet due; a call is cut at most `resolutionMs` late.
 */
export class Deadlines {
  private head: Deadline | null = null
  private tail: Deadline | null = null
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly resolutionMs: number) {}

  /** Tracks a call that has `ms` to settle; `onExpire` runs (once) if it does not. */
  begin(ms: number, onExpire: (err: Error) => void): Deadline {
    const entry = new ExpiringCall(performance.now() + ms, ms, onExpire)
    this.add(entry)
    return entry
  }

  /** Starts tracking `entry` (its `at` already set). */
  add(entry: Deadline): void {
    entry.linked = true
    entry.prev = this.tail
    entry.next = null
    if (this.tail === null) this.head = entry
    else this.tail.next = entry
    this.tail = entry
    if (this.timer === undefined) this.start()
  }

  /** Stops tracking `entry`; false when it had already expired (its outcome is then ignored). */
  settle(entry: Deadline): boolean {
    if (!entry.linked) return false
    this.unlink(entry)
    return true
  }

  /** Settles like `promise` (calling `onSuccess` first), or rejects with TimeoutError after about `ms`. */
  track<T>(promise: Promise<T>, ms: number, onSuccess: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.begin(ms, reject)
      promise.then(
        (value) => {
          if (!this.settle(entry)) return
          onSuccess()
          resolve(value)
        },
        (err) => {
          if (this.settle(entry)) reject(err)
        },
      )
    })
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private unlink(entry: Deadline): void {
    entry.linked = false
    if (entry.prev === null) this.head = entry.next
    else entry.prev.next = entry.next
    if (entry.next === null) this.tail = entry.prev
    else entry.next.prev = entry.prev
    entry.prev = entry.next = null
  }

  private start(): void {
    this.timer = setInterval(() => this.sweep(), this.resolutionMs)
    this.timer.unref()
  }

  private sweep(): void {
    if (this.head === null) {
      this.stop()
      return
    }
    const now = performance.now()
    // Nearly FIFO: expire from the oldest while due. (Re-read the head each time: an expiry
    // callback may settle or add other calls.)
    let entry: Deadline | null
    while ((entry = this.head) !== null && entry.at <= now) this.expire(entry)
    // A shorter deadline behind a longer one (a call that waited for the connection first) is
    // rare; the list holds only calls in flight, so checking the rest is cheap.
    let late: Deadline[] | undefined
    for (; entry !== null; entry = entry.next) if (entry.at <= now) (late ??= []).push(entry)
    if (late) for (const e of late) if (e.linked) this.expire(e)
  }

  private expire(entry: Deadline): void {
    this.unlink(entry)
    entry.expire(new TimeoutError(entry.ms, 'redis command'))
  }
}

class ExpiringCall implements Deadline {
  prev: Deadline | null = null
  next: Deadline | null = null
  linked = false
  constructor(
    readonly at: number,
    readonly ms: number,
    private readonly onExpire: (err: Error) => void,
  ) {}

  expire(err: Error): void {
    this.onExpire(err)
  }
}
