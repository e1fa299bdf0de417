/**
 * The measured loops. Each competitor gets its own freshly compiled copy (new Function), so
 * every call site inside is monomorphic for that competitor: closures made from one function
 * literal share their type feedback in V8, and a loop shared by eight caches would measure a
 * megamorphic call instead of the cache.
 *
 * Targets are called directly (`t.get(k)`, `t.set(k, v, a)`), not through an adapter, so
 * no wrapper cost is added to anyone. `a` is the competitor's third set argument (the
 * engines' ttlMs; ignored by peers that do not take one).
 */
export interface Cursor {
  pos: number
}

type GetLoop = (t: unknown, keys: readonly string[], n: number, cur: Cursor) => number
type SetLoop = (t: unknown, keys: readonly string[], n: number, cur: Cursor, v: unknown, a: unknown) => number
type MixedLoop = (
  t: unknown,
  keys: readonly string[],
  idx: Int32Array,
  ops: Uint8Array,
  n: number,
  cur: Cursor,
  v: unknown,
  a: unknown,
) => number
type AsyncGetLoop = (t: unknown, keys: readonly string[], n: number, cur: Cursor) => Promise<number>
type BatchGetLoop = (t: unknown, batches: readonly (readonly string[])[], n: number, cur: Cursor) => number | Promise<number>

/** n gets over keys[cur.pos...] (cyclic); returns the number of hits. */
export function compileGetLoop(): GetLoop {
  return new Function(
    't',
    'keys',
    'n',
    'cur',
    `let pos = cur.pos, hits = 0
     const len = keys.length
     for (let i = 0; i < n; i++) {
       if (t.get(keys[pos]) !== undefined) hits++
       if (++pos === len) pos = 0
     }
     cur.pos = pos
     return hits`,
  ) as GetLoop
}

/** `t.set(k, v)` when the target takes no third argument (lru-native2 throws on one). */
const setCall = (withArg: boolean) => (withArg ? 't.set(k, v, a)' : 't.set(k, v)')

/** n sets over keys[cur.pos...] (cyclic); returns n. */
export function compileSetLoop(withArg: boolean): SetLoop {
  return new Function(
    't',
    'keys',
    'n',
    'cur',
    'v',
    'a',
    `let pos = cur.pos
     const len = keys.length
     for (let i = 0; i < n; i++) {
       const k = keys[pos]
       ${setCall(withArg)}
       if (++pos === len) pos = 0
     }
     cur.pos = pos
     return n`,
  ) as SetLoop
}

/**
 * n ops from a precomputed stream: ops[i] 1 = set, 0 = read. A read is cache-aside: get,
 * and set on a miss (else a Zipf stream writes too few distinct keys to ever fill the
 * cache, and nothing would be evicted). Returns hits.
 */
export function compileMixedLoop(withArg: boolean): MixedLoop {
  return new Function(
    't',
    'keys',
    'idx',
    'ops',
    'n',
    'cur',
    'v',
    'a',
    `let pos = cur.pos, hits = 0
     const len = idx.length
     for (let i = 0; i < n; i++) {
       const k = keys[idx[pos]]
       if (ops[pos] === 1) ${setCall(withArg)}
       else if (t.get(k) !== undefined) hits++
       else ${setCall(withArg)}
       if (++pos === len) pos = 0
     }
     cur.pos = pos
     return hits`,
  ) as MixedLoop
}

/** n awaited gets through the async Cache API; returns hits. */
export function compileAsyncGetLoop(): AsyncGetLoop {
  return new Function(
    't',
    'keys',
    'n',
    'cur',
    `return (async () => {
       let pos = cur.pos, hits = 0
       const len = keys.length
       for (let i = 0; i < n; i++) {
         if ((await t.get(keys[pos])) !== undefined) hits++
         if (++pos === len) pos = 0
       }
       cur.pos = pos
       return hits
     })()`,
  ) as AsyncGetLoop
}

/** n batch calls `t.getMany(batch)` (sync or async); returns hits over all keys. */
export function compileBatchGetLoop(isAsync: boolean): BatchGetLoop {
  const body = `let pos = cur.pos, hits = 0
       const len = batches.length
       for (let i = 0; i < n; i++) {
         const r = ${isAsync ? 'await ' : ''}t.getMany(batches[pos])
         for (let j = 0; j < r.length; j++) if (r[j] !== undefined) hits++
         if (++pos === len) pos = 0
       }
       cur.pos = pos
       return hits`
  return new Function(
    't',
    'batches',
    'n',
    'cur',
    isAsync ? `return (async () => { ${body} })()` : body,
  ) as BatchGetLoop
}

/** n batches of per-key gets, the baseline for getMany; returns hits. */
export function compileBatchOfGetsLoop(): BatchGetLoop {
  return new Function(
    't',
    'batches',
    'n',
    'cur',
    `let pos = cur.pos, hits = 0
     const len = batches.length
     for (let i = 0; i < n; i++) {
       const b = batches[pos]
       for (let j = 0; j < b.length; j++) if (t.get(b[j]) !== undefined) hits++
       if (++pos === len) pos = 0
     }
     cur.pos = pos
     return hits`,
  ) as BatchGetLoop
}
