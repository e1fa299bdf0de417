/**
 * One Keyv namespace in one cache: its current generation and the order of the operations on it.
 * Every KeyvAstraStore of this process over the same cache and namespace shares one of these.
 *
 * Entries live under `${namespace}:~${generation}:${key}`; the generation is itself a cache entry
 * and clear() replaces it. Three rules keep that from losing or reordering writes:
 *
 * - The generation is read or created once per process (one flight shared by every caller), and
 *   created set-if-absent where the cache can do that atomically (RedisCache: SET NX), so
 *   processes starting together agree on it.
 * - Once known, the generation is kept here: an operation is sent to the cache at once, in the
 *   order it was issued, together with a read of the stored generation (after it, in the same
 *   round trip). So operations take effect in issue order with no extra round trip.
 * - When that read shows another generation (another process cleared the namespace) or none
 *   (the entry was evicted or flushed), the operation is re-run once in the generation it should
 *   have used, and later operations wait until every earlier check is back, so nothing
 *   overtakes it. This costs a round trip only after such a change.
 */
import { randomBytes } from 'node:crypto'
import type { Cache } from '../contract/cache'

/** What an operation returned and, when checked, the generation stored when it ran. */
export interface Outcome<T> {
  result: T
  stored?: unknown
}

/** Runs an operation under `generation`; with `check`, also reads the stored generation after it. */
export type Operation<T> = (generation: string, check: boolean) => Promise<Outcome<T>>

/**
 * A cache that can store a value only when the key holds nothing, atomically across processes,
 * and tell what the key holds afterwards (RedisCache.setIfAbsent). `undefined`: it could not
 * find out (e.g. Redis unreachable).
 */
interface SetIfAbsent {
  setIfAbsent(key: string, value: unknown, ttl?: number): Promise<unknown>
}

function canSetIfAbsent(cache: Cache<unknown>): cache is Cache<unknown> & SetIfAbsent {
  return typeof (cache as Partial<SetIfAbsent>).setIfAbsent === 'function'
}

interface Step {
  /** Issue order. */
  readonly seq: number
  readonly operation: Operation<unknown>
  readonly resolve: (value: unknown) => void
  readonly reject: (err: unknown) => void
  /** clear(): installs this generation instead of running in one. */
  readonly replaces?: string
  /** The generation the first run used and what it returned (kept when a re-run is not needed). */
  ranIn?: string
  firstResult?: unknown
  /** A check showed this generation was current when the step ran: re-run in it, unchecked. */
  redoIn?: string
}

export function newGeneration(): string {
  return randomBytes(6).toString('base64url')
}

export class Namespace {
  readonly generationKey: string
  /** What new operations run in; undefined until read or created (again, after a loss). */
  private generation: string | undefined
  /** The last generation this process knew, kept while the cache cannot say which is current. */
  private lastKnown: string | undefined
  /**
   * The stored generation was last seen by the cache itself (not assumed while it was
   * unreachable). While unconfirmed, a check that finds no generation tells nothing.
   */
  private confirmed = false
  /** Dispatch number of what `generation` was learnt from: a later dispatch's news wins. */
  private knownAt = 0
  /**
   * This process's clear()s dispatched while checks were in flight, so a check that comes back
   * can tell whether one followed it; pruned whenever no check is in flight.
   */
  private readonly recentReplaces: { at: number; standIn?: string }[] = []
  private dispatches = 0
  private issued = 0
  /** Steps waiting, in issue order. */
  private readonly queue: Step[] = []
  private checksInFlight = 0
  /** A check came back with another generation: hold new steps until every earlier check is back. */
  private stalled = false
  private resolving = false

  constructor(
    private readonly cache: Cache<unknown>,
    readonly name: string,
  ) {
    this.generationKey = `${name}:~generation`
  }

  /** Runs `operation` in this namespace, after everything issued before it. */
  run<T>(operation: Operation<T>): Promise<T> {
    return this.enqueue(operation as Operation<unknown>, undefined) as Promise<T>
  }

  /** clear(): a new generation, in issue order (earlier steps use the old one, later ones the new). */
  replace(): Promise<void> {
    const fresh = newGeneration()
    const write: Operation<void> = async () => ({ result: await this.cache.set(this.generationKey, fresh, 0) })
    return this.enqueue(write as Operation<unknown>, fresh) as Promise<void>
  }

  private enqueue(operation: Operation<unknown>, replaces: string | undefined): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const step: Step = { seq: ++this.issued, operation, resolve, reject, replaces }
      if (this.queue.length === 0 && !this.stalled && (replaces !== undefined || this.generation !== undefined)) this.dispatch(step)
      else {
        this.queue.push(step)
        this.pump()
      }
    })
  }

  /** Dispatches waiting steps in order while nothing holds them. */
  private pump(): void {
    while (this.queue.length > 0) {
      if (this.stalled) {
        if (this.checksInFlight > 0) return
        this.stalled = false
      }
      const head = this.queue[0]
      if (head.replaces === undefined && head.redoIn === undefined && this.generation === undefined) {
        this.resolveGeneration()
        return
      }
      this.queue.shift()
      this.dispatch(head)
    }
  }

  private dispatch(step: Step): void {
    const at = ++this.dispatches
    if (step.replaces !== undefined) {
      if (this.checksInFlight > 0) this.recentReplaces.push({ at })
      this.learn(step.replaces, at, true)
      this.settle(step, attempt(step.operation, step.replaces, false))
      return
    }
    const generation = step.redoIn ?? this.generation!
    if (step.ranIn !== undefined) {
      // A re-run. Not needed when the generation turned out to be the one it ran in.
      if (generation === step.ranIn) step.resolve(step.firstResult)
      else this.settle(step, attempt(step.operation, generation, false))
      return
    }
    step.ranIn = generation
    this.checksInFlight++
    attempt(step.operation, generation, true).then(
      ({ result, stored }) => {
        this.checked(step, at, generation, result, stored)
        this.checkDone()
      },
      (err) => {
        step.reject(err)
        this.checkDone()
      },
    )
  }

  private checkDone(): void {
    if (--this.checksInFlight > 0) return
    this.recentReplaces.length = 0
    if (this.stalled) this.pump()
  }

  private settle(step: Step, outcome: Promise<Outcome<unknown>>): void {
    outcome.then(({ result }) => step.resolve(result), step.reject)
  }

  /** A step's check is back: done, or queued again (in issue order) to re-run in the right generation. */
  private checked(step: Step, at: number, ranIn: string, result: unknown, stored: unknown): void {
    if (stored === ranIn) {
      this.learn(ranIn, at, true)
      step.resolve(result)
      return
    }
    const lost = typeof stored !== 'string'
    if (lost && !this.confirmed) {
      // No generation found while the cache cannot be asked (a fallback knows none): nothing
      // is known to correct.
      step.resolve(result)
      return
    }
    step.firstResult = result
    if (!lost) step.redoIn = stored as string
    else {
      // Lost, and our own clear() already followed this step: the step belongs to the
      // generation the loss would have created, which that clear() replaced at once. One
      // throwaway generation stands in for it, shared by every step between the two.
      const next = this.recentReplaces.find((r) => r.at > at)
      if (next !== undefined) step.redoIn = next.standIn ??= newGeneration()
    }
    this.learn(lost ? undefined : (stored as string), at, !lost)
    this.stalled = true
    let i = this.queue.length
    while (i > 0 && this.queue[i - 1].seq > step.seq) i--
    this.queue.splice(i, 0, step)
  }

  /** Takes `generation` as current when it comes from a later dispatch than what we knew. */
  private learn(generation: string | undefined, at: number, fromCache: boolean): void {
    if (at < this.knownAt) return
    this.knownAt = at
    this.generation = generation
    if (generation !== undefined) {
      this.lastKnown = generation
      this.confirmed = fromCache
    }
  }

  /** One read-or-create for every waiting step. */
  private resolveGeneration(): void {
    if (this.resolving) return
    this.resolving = true
    const at = ++this.dispatches
    this.readOrCreate().then(
      ({ generation, fromCache }) => {
        this.resolving = false
        this.learn(generation, at, fromCache)
        this.pump()
      },
      (err) => {
        // The cache refused (closed, or failOpen false): the steps that needed it fail; the
        // next operation tries again.
        this.resolving = false
        for (const step of this.queue.splice(0)) step.reject(err)
      },
    )
  }

  private async readOrCreate(): Promise<{ generation: string; fromCache: boolean }> {
    const candidate = newGeneration()
    if (canSetIfAbsent(this.cache)) {
      const stored = await this.cache.setIfAbsent(this.generationKey, candidate, 0)
      if (typeof stored === 'string') return { generation: stored, fromCache: true }
      // The cache could not be asked: carry on with what we knew, until it can.
      return { generation: this.lastKnown ?? candidate, fromCache: false }
    }
    // Only atomic within this process (this method runs once at a time per namespace).
    const current = await this.cache.get(this.generationKey)
    if (typeof current === 'string') return { generation: current, fromCache: true }
    await this.cache.set(this.generationKey, candidate, 0)
    return { generation: candidate, fromCache: true }
  }
}

/** The operation's promise; a synchronous throw becomes a rejection. */
function attempt(operation: Operation<unknown>, generation: string, check: boolean): Promise<Outcome<unknown>> {
  try {
    return operation(generation, check)
  } catch (err) {
    return Promise.reject(err)
  }
}

const namespaces = new WeakMap<Cache<unknown>, Map<string, Namespace>>()

/** The process-wide state of `name` in `cache`. */
export function namespaceOf(cache: Cache<unknown>, name: string): Namespace {
  let byName = namespaces.get(cache)
  if (byName === undefined) {
    byName = new Map()
    namespaces.set(cache, byName)
  }
  let namespace = byName.get(name)
  if (namespace === undefined) {
    namespace = new Namespace(cache, name)
    byName.set(name, namespace)
  }
  return namespace
}
