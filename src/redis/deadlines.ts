import { TimeoutError } from './timeout'

interface Pending {
  deadline: number
  settled: boolean
  reject: (err: Error) => void
  ms: number
}

/**
 * Bounds many in-flight calls with one shared timer instead of a setTimeout per call (which
 * measurably slowed every Redis get). Deadlines arrive almost in order (same timeout for all),
 * so a FIFO swept every `resolutionMs` suffices; a call is cut at most `resolutionMs` late.
 */
export class Deadlines {
  private queue: Pending[] = []
  private head = 0
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly resolutionMs: number) {}

  /** Settles like `promise` (calling `onSuccess` first), or rejects with TimeoutError after about `ms`. */
  track<T>(promise: Promise<T>, ms: number, onSuccess: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: performance.now() + ms, settled: false, reject, ms }
      this.queue.push(entry)
      if (this.timer === undefined) this.start()
      promise.then(
        (value) => {
          entry.settled = true
          onSuccess()
          resolve(value)
        },
        (err) => {
          entry.settled = true
          reject(err)
        },
      )
    })
  }

  private start(): void {
    this.timer = setInterval(() => this.sweep(), this.resolutionMs)
    this.timer.unref()
  }

  private sweep(): void {
    const now = performance.now()
    const q = this.queue
    // Deadlines are nearly FIFO; scan past settled entries and expire what is due.
    while (this.head < q.length) {
      const entry = q[this.head]
      if (!entry.settled) {
        if (entry.deadline > now) break
        entry.settled = true
        entry.reject(new TimeoutError(entry.ms, 'redis command'))
      }
      this.head++
    }
    // A shorter deadline stuck behind a longer one (a call that waited for the connection first) is rare: check the rest too.
    for (let i = this.head; i < q.length; i++) {
      const entry = q[i]
      if (!entry.settled && entry.deadline <= now) {
        entry.settled = true
        entry.reject(new TimeoutError(entry.ms, 'redis command'))
      }
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head)
      this.head = 0
    }
    if (this.head >= this.queue.length) {
      this.queue = []
      this.head = 0
      clearInterval(this.timer)
      this.timer = undefined
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }
}
