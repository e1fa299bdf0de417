/**
 * A steady stream of cache calls for fault tests: a few workers call get/set/getOrSet (or any
 * calls given) on a small key set until stop(), and record every rejection and the slowest call
 * per kind.
 *
 *   const stream = callStream(cache)
 *   ... fault ...
 *   const { calls, rejections, worstMs, worst } = await stream.stop()
 */
import type { Cache } from '../../src/contract/cache'
import { sleep } from './redis-server'

export interface StreamResult {
  calls: number
  rejections: unknown[]
  /** Slowest call of any kind, ms. */
  worstMs: number
  /** Slowest call per kind, ms. */
  worst: Record<string, number>
}

/** One kind of call: a name (for the report) and what it does with a key and a counter. */
export interface StreamCall {
  kind: string
  run(key: string, i: number): Promise<unknown>
}

export function defaultCalls(cache: Cache<string>): StreamCall[] {
  return [
    { kind: 'get', run: (key) => cache.get(key) },
    { kind: 'set', run: (key, i) => cache.set(key, `v${i}`, 30) },
    { kind: 'getOrSet', run: (key, i) => cache.getOrSet(key, async () => `loaded${i}`, 30) },
  ]
}

export function callStream(calls: StreamCall[], options: { workers?: number; keys?: number; pauseMs?: number } = {}) {
  const workers = options.workers ?? 10
  const keys = options.keys ?? 20
  const pauseMs = options.pauseMs ?? 2
  const result: StreamResult = { calls: 0, rejections: [], worstMs: 0, worst: {} }
  let running = true
  const loops = Array.from({ length: workers }, async (_, w) => {
    let i = 0
    while (running) {
      const call = calls[i % calls.length]
      const key = `stream:${(w * 7 + i++) % keys}`
      const started = performance.now()
      try {
        await call.run(key, i)
      } catch (err) {
        result.rejections.push(err)
      }
      const ms = performance.now() - started
      result.worstMs = Math.max(result.worstMs, ms)
      result.worst[call.kind] = Math.max(result.worst[call.kind] ?? 0, ms)
      result.calls++
      await sleep(pauseMs) // a steady stream, not a busy loop over the fallback
    }
  })
  return {
    result,
    stop: async (): Promise<StreamResult> => {
      running = false
      await Promise.all(loops)
      return result
    },
  }
}

/** Polls `condition` until true; throws after `timeoutMs` naming `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(20)
  }
}
