/**
 * The synchronous engine behind InMemoryLRUCache. Two implementations with identical
 * behaviour, operation for operation: the Rust one over crates/node (native-engine.ts in
 * reference storage, serialized-engine.ts in serialized storage) and the pure-TS one
 * (js-engine.ts). Inputs are validated by InMemoryLRUCache before
 * they reach an engine; engines do not re-validate.
 *
 * Shared semantics (both engines, and crates/core, MUST follow these exactly so their
 * counters and eviction order agree op for op — the property tests compare them):
 *
 * - Time is `clock()` in milliseconds (f64). An entry set with ttlMs > 0 at time t has
 *   deadline t + ttlMs (f64 addition) and is expired when now >= deadline. ttlMs 0 = never.
 * - get(key): present and live -> hits++, move to MRU, return value.
 *   absent -> misses++. present but expired -> remove it, expirations++, misses++.
 * - peek(key)/has(key): no counters, no reordering; an expired entry reads as absent
 *   (it is left in place; it will be reclaimed by get, set's sweep or eviction).
 * - set(key, value, ttlMs): sets++. First a bounded sweep (below). Then if the key is
 *   present (live or expired) its value and deadline are replaced and it moves to MRU.
 *   Otherwise, if size == capacity, the LRU tail is removed: counted as an expiration if
 *   it is expired, else as an eviction. Then the key is inserted at MRU.
 * - Slots: entries live in slots 0..capacity-1. A new entry takes the most recently freed
 *   slot (free list is a LIFO stack); when none is free, the next never-used slot.
 *   clear() resets slots, free list and the sweep cursor to the initial state.
 * - Sweep (bounded reclamation of expired entries): on every set, before anything else,
 *   examine SWEEP_PER_SET = 2 slots starting at the sweep cursor; the cursor walks slots
 *   0..highWater-1 (highWater = number of slots ever used since the last clear) and wraps
 *   to 0. Each occupied slot examined whose entry is expired is removed (expirations++).
 *   Nothing happens when highWater is 0.
 * - delete(key): removes the entry; returns true if it was present AND live (an expired
 *   entry is removed, counted as an expiration, and false is returned).
 * - clear(): removes everything; counters are kept.
 *
 * Removal events (EngineOptions.onRemove): every entry an operation removes is reported
 * once, synchronously, after the operation has finished (so the hook may use the engine),
 * in the order the operation removed them: a set's sweep first (slot order of the
 * cursor), then the entry it replaced ('set') or evicted ('evict', or 'expire' if that
 * victim had expired). The reason follows the counter: any entry found expired is
 * 'expire' (by get, delete, the sweep or as a victim); a live entry removed by delete is
 * 'delete'; clear() reports every entry as 'clear', in the policy's order (LRU: most to
 * least recently used). A serialized cache with a byte budget also reports its budget's
 * evictions, and a value larger than the whole budget as 'evict' (after its key's previous
 * value, as 'set').
 *
 * Equal strings: a set whose value is a string equal to the one the slot holds keeps the held
 * string (strings are immutable and compare by content, so nothing can tell them apart) and
 * drops the new copy. Refreshing an entry with unchanged content then leaves nothing young for
 * the scavenger to copy and promote: measured, a set-only loop over 1M entries spent 6 ms per
 * scavenge writing every copy and ~1.8 ms keeping the held one (lru-cache does the same through
 * its `v !== oldVal` check). Events and counters are unchanged: it is still a 'set'.
 */
export interface EngineCounters {
  hits: number
  misses: number
  evictions: number
  expirations: number
  sets: number
  size: number
}

export type Clock = () => number

/** Why an entry left the engine (see "Removal events" above). */
export type RemovalReason = 'evict' | 'expire' | 'delete' | 'set' | 'clear'

/** Receives each removed entry's key, value and reason. */
export type RemovalHook<V> = (key: string, value: V, reason: RemovalReason) => void

export const SWEEP_PER_SET = 2

export interface Engine<V> {
  readonly kind: 'native' | 'js'
  readonly capacity: number
  /** Set when the counters are shared with other caches (a shared() cache): equal for all of them, see MetricsSource.sharedStats. */
  readonly countersId?: string
  get(key: string): V | undefined
  peek(key: string): V | undefined
  has(key: string): boolean
  set(key: string, value: V, ttlMs: number): void
  delete(key: string): boolean
  /** Exactly get() for each key, in order (same counters, same LRU order); one N-API crossing per batch in the native engine. */
  getMany(keys: readonly string[]): (V | undefined)[]
  /** Exactly set(entries[i][0], entries[i][1], ttlsMs[i]) for each i, in order (entries[i][2] is ignored: ttlsMs has the ttls). */
  setMany(entries: readonly (readonly [string, V, ...unknown[]])[], ttlsMs: ArrayLike<number>): void
  clear(): void
  /** Current counters; cheap enough to call at every metrics scrape, not meant for every op. */
  counters(): EngineCounters
  readonly size: number
  /** Releases native memory (its entries are not reported as removed); the engine must not be used afterwards. */
  close(): void
}

export interface EngineOptions<V = unknown> {
  /** Most entries; each engine accepts up to its own limit (see createEngine) and throws CacheOptionError beyond. */
  capacity: number
  clock: Clock
  /** Eviction policy (docs/policies.md). Default 'lru'. */
  policy?: import('./policies/policy').EnginePolicy
  /** Seed of the policy's key hash; both engines decide identically given the same seed. Default: random. */
  policySeed?: number
  /** Called for every removed entry (see "Removal events"); no cost when absent. */
  onRemove?: RemovalHook<V>
}
