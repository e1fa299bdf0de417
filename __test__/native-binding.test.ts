/**
 * The N-API binding (crates/node) on its own: its layout equals the TS copy, key encoding
 * is exact for all of Unicode, slot and removal reporting lets JS drop dead values and
 * report removals, and no argument, however wrong, crashes the process: every mistake is a
 * coded JS error. Also the loader (src/native.ts): the env var, the single fallback
 * warning, the error when 'native' is demanded but missing.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { CacheOptionError } from '../src/errors'
import { NativeEngine } from '../src/memory/native-engine'
import { LAYOUT, layoutDifferences } from '../src/memory/native-layout'
import { engineFromEnv, loadNative, nativeArea, nativeLoadError, selectEngine, type NativeBinding } from '../src/native'

const native = loadNative()

if (native === null) {
  test('native binding loads (build it with npm run build:native)', (t) => {
    t.fail(`native binding unavailable: ${nativeLoadError()?.message}`)
  })
} else {
  defineTests(native)
}

function defineTests(b: NativeBinding): void {
  const fixedClock = () => 1000
  const area = nativeArea(b)
  const status = () => area.i32[LAYOUT.STATUS_AT]
  const log = () => Array.from({ length: status() }, (_, i) => [area.i32[LAYOUT.LOG_AT + 2 * i], area.i32[LAYOUT.LOG_AT + 2 * i + 1]])
  const counters = (h: number) => {
    b.counters(h)
    return [...area.counters.slice(0, 6)]
  }
  const create = (capacity: number, policy = 0, flags = 0) => b.create(capacity, policy, 0, flags)
  // Keyed calls read their time from the area: these write it first, as the engines do.
  const at = <T>(now: number, call: () => T): T => {
    area.now[0] = now
    return call()
  }
  const get = (h: number, k: string, now: number) => at(now, () => b.get(h, k))
  const peek = (h: number, k: string, now: number) => at(now, () => b.peek(h, k))
  const set = (h: number, k: string, ttl: number, now: number) => at(now, () => b.set(h, k, ttl))
  const remove = (h: number, k: string, now: number) => at(now, () => b.remove(h, k))

  test('the layout the binary reports is the one the TS expects, constant for constant', (t) => {
    t.deepEqual(layoutDifferences(b.layout()), [])
    t.is(b.bindingVersion(), LAYOUT.BINDING_VERSION)
    t.deepEqual(layoutDifferences({ ...b.layout(), MISS: -7 }), ['MISS: binary -7, expected -1'], 'a drift is named')
  })

  test('slots, misses and the expired encoding', (t) => {
    const h = create(2)
    t.is(set(h, 'a', 0, 0), 0)
    t.is(set(h, 'b', 10, 0), 1)
    t.is(get(h, 'a', 5), 0)
    t.is(get(h, 'zz', 5), LAYOUT.MISS)
    t.is(peek(h, 'b', 9), 1)
    t.is(peek(h, 'b', 10), LAYOUT.MISS, 'peek treats an entry at its deadline as absent')
    t.is(get(h, 'b', 10), LAYOUT.EXPIRED_BASE - 1, 'expired entry in slot 1 reported as EXPIRED_BASE - slot')
    t.is(remove(h, 'a', 10), 0)
    t.is(remove(h, 'a', 10), LAYOUT.MISS)
    // hits, misses, evictions, expirations, sets, size
    t.deepEqual(counters(h), [1, 2, 0, 1, 2, 0])
    b.close(h)
  })

  test('a set logs the slots its sweep freed, except the one it returns', (t) => {
    const h = create(4)
    t.is(set(h, 'a', 5, 0), 0)
    t.is(set(h, 'b', 5, 0), 1) // its sweep examined slot 0 twice: the cursor is at 1
    // This set's sweep frees slot 1, then wraps to slot 0 and frees it too: the new key
    // takes slot 0 (the most recently freed) and only slot 1 is logged.
    t.is(set(h, 'c', 0, 100), 0)
    t.deepEqual(log(), [[1, LAYOUT.REASON_EXPIRE]])
    t.is(set(h, 'd', 0, 100), 1)
    t.is(status(), 0, 'nothing else freed')
    b.close(h)
  })

  test('with FLAG_REPORT, takeRemovals hands over every removal with its key, in order', (t) => {
    const h = create(2, 0, LAYOUT.FLAG_REPORT)
    set(h, 'a', 0, 0)
    set(h, 'b', 5, 0)
    t.is(set(h, 'a', 0, 0), 0)
    t.is(status(), 1)
    t.deepEqual(b.takeRemovals(), [0, LAYOUT.REASON_SET, 'a', undefined, 0])
    t.is(set(h, 'c', 0, 10), 1, 'b expired: swept, its slot reused')
    t.deepEqual(b.takeRemovals(), [1, LAYOUT.REASON_EXPIRE, 'b', undefined, 0])
    set(h, 'd', 0, 10)
    t.deepEqual(b.takeRemovals(), [0, LAYOUT.REASON_EVICT, 'a', undefined, 0])
    b.clear(h)
    t.is(status(), 2)
    t.deepEqual(b.takeRemovals(), [0, LAYOUT.REASON_CLEAR, 'd', undefined, 0, 1, LAYOUT.REASON_CLEAR, 'c', undefined, 0], 'most recently used first')
    t.deepEqual(b.takeRemovals(), [], 'taken once')
    b.close(h)
  })

  test('NativeEngine drops the values of slots Rust freed', (t) => {
    const clock = { now: 0 }
    const engine = new NativeEngine<object>({ capacity: 8, clock: () => clock.now })
    const values = (engine as unknown as { values: (object | undefined)[] }).values
    engine.set('short', { v: 1 }, 10)
    engine.set('long', { v: 2 }, 0)
    engine.set('gone', { v: 3 }, 0)
    t.true(engine.delete('gone'))
    t.is(values[2], undefined, 'deleted')
    clock.now = 10
    t.is(engine.get('short'), undefined)
    t.is(values[0], undefined, 'expired on get')
    engine.set('x', { v: 4 }, 5)
    clock.now = 20
    // Sweep walks slots; after enough sets the expired x is reclaimed and its value dropped.
    for (let i = 0; i < 4; i++) engine.set(`k${i}`, { v: i }, 0)
    const live = new Set(['long', 'k0', 'k1', 'k2', 'k3'])
    t.is(engine.counters().expirations, 2)
    t.is(values.filter((v) => v !== undefined).length, live.size)
    engine.close()
  })

  test('keys: every string maps to itself only (Unicode, lone surrogates, long keys)', (t) => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
    const key = fc.oneof(
      fc.string({ unit, maxLength: 12 }),
      fc.string({ unit: fc.constantFrom('a', '\u0000', '\u0001', '\u00ff', '\u0100', '\ud800', '\udc00'), maxLength: 6 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
      fc.integer({ min: 120, max: 700 }).map((n) => 'k'.repeat(n)),
      fc.integer({ min: 120, max: 700 }).map((n) => 'ж'.repeat(n)),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('set', 'get', 'delete'), key), { maxLength: 200 }), (ops) => {
        const engine = new NativeEngine<string>({ capacity: 1000, clock: fixedClock })
        const model = new Map<string, string>()
        try {
          ops.forEach(([op, k], i) => {
            if (op === 'set') {
              engine.set(k, `${i}`, 0)
              model.set(k, `${i}`)
            } else if (op === 'get') {
              if (engine.get(k) !== model.get(k)) throw new Error(`get ${JSON.stringify(k)}`)
            } else if (engine.delete(k) !== model.delete(k)) {
              throw new Error(`delete ${JSON.stringify(k)}`)
            }
          })
          if (engine.size !== model.size) throw new Error('size')
          for (const [k, v] of model) if (engine.peek(k) !== v) throw new Error(`peek ${JSON.stringify(k)}`)
        } finally {
          engine.close()
        }
      }),
      { numRuns: 300 },
    )
    t.pass()
  })

  test('keys at the stack-buffer boundary, and keys reported back exactly', (t) => {
    const h = create(1000, 0, LAYOUT.FLAG_REPORT)
    const keys: string[] = []
    // Around text.rs STACK_UNITS (512, read in one call below 511 units) and its old value 128.
    const lengths = [...Array(21).keys()].flatMap((i) => [120 + i, 500 + i])
    for (const n of lengths) keys.push('a'.repeat(n), 'é'.repeat(n), '字'.repeat(n), 'a'.repeat(n - 1) + '字')
    keys.push('z'.repeat(4096), '', '\ud800', '😀')
    keys.forEach((k) => set(h, k, 0, 0))
    keys.forEach((k, i) => t.is(peek(h, k, 0), i, `key of length ${k.length}`))
    t.is(b.size(h), keys.length)
    b.clear(h)
    const removed = b.takeRemovals()
    const back = removed.filter((_, i) => i % LAYOUT.REMOVAL_FIELDS === 2)
    t.deepEqual(back, [...keys].reverse(), 'clear lists every key, most recently used first')
    b.close(h)
  })

  test('bad handles, closed caches and the other storage\'s handles throw coded JS errors', (t) => {
    const h = create(4)
    b.close(h)
    for (const bad of [h, 0, -1, 2 ** 32 - 1, NaN, 1.5, 12345678]) {
      const err = t.throws(() => get(bad, 'a', 0))
      t.regex(err.message, /not open/)
      t.is((err as Error & { code?: string }).code, 'ERR_ASTRA_NATIVE_HANDLE')
    }
    t.throws(() => b.close(h), { message: /not open/ })
    // A new cache may reuse the index, never the handle.
    const h2 = create(4)
    t.not(h2, h)
    t.throws(() => set(h, 'a', 0, 0), { message: /not open/ })
    t.is(set(h2, 'a', 0, 0), 0)
    const s = b.sCreate(4, 0, 0, 0, 0)
    t.throws(() => get(s, 'a', 0), { message: /not a reference-storage cache/, code: 'ERR_ASTRA_NATIVE_HANDLE' } as never)
    t.throws(() => b.sGet(h2, 'a'), { message: /not a serialized-storage cache/ })
    b.close(h2)
    b.close(s)
  })

  test('wrong argument types throw TypeErrors', (t) => {
    const h = create(4)
    const binding = b as unknown as Record<string, (...args: unknown[]) => unknown>
    t.throws(() => binding.get(h, 42), { instanceOf: TypeError, message: /key must be a string/ })
    t.throws(() => binding.get(h, Symbol('s')), { instanceOf: TypeError })
    t.throws(() => binding.set(h, 'k'.repeat(70_000), 0), { instanceOf: TypeError, message: /at most 65536/ })
    t.throws(() => binding.get('1', 'a'), { instanceOf: TypeError, message: /handle must be a number/ })
    t.throws(() => binding.set(h, 'a', '5'), { instanceOf: TypeError, message: /ttlMs/ })
    t.throws(() => binding.set(h, 'a', -1), { instanceOf: TypeError, message: /ttlMs must be a number >= 0/ })
    t.throws(() => binding.set(h, 'a', NaN), { instanceOf: TypeError, message: /ttlMs/ })
    t.throws(() => binding.create(4, 9, 0, 0), { instanceOf: TypeError, message: /policy must be 0, 1, 2 or 3, got 9/ })
    for (const cap of [0, -1, 1.5, NaN, 2 ** 31, '4', undefined]) {
      t.throws(() => binding.create(cap, 0, 0, 0), { instanceOf: TypeError, message: /capacity/ }, String(cap))
    }
    t.throws(() => binding.getMany(h, 'ab', 257), { message: /at most 256 keys/ })
    area.ends.set([1, 5])
    t.throws(() => binding.getMany(h, 'ab', 2), { message: /ends\[1\] = 5 is out of order or past the end/ })
    // A negative or NaN time means the engine's own clock.
    t.is(set(h, 'm', 60_000, NaN), 0)
    t.is(get(h, 'm', -1), 0, 'live on the engine clock')
    t.is(get(h, 'm', 1e12), LAYOUT.EXPIRED_BASE, 'an instant given later expires it')
    b.close(h)
  })

  test('fuzz: random calls with random arguments (and random area contents) never crash the process', (t) => {
    const names = ['create', 'close', 'get', 'peek', 'set', 'remove', 'getMany', 'clear', 'size', 'counters', 'takeRemovals', 'sCreate', 'sGet', 'sSet', 'sRemove', 'sHas', 'sPeek', 'sPolicy'] as const
    const nows = fc.oneof(fc.double(), fc.constantFrom(-1, 0, 1e12, NaN, Infinity))
    const binding = b as unknown as Record<string, (...args: unknown[]) => unknown>
    const open: number[] = [create(3), create(3, 1, LAYOUT.FLAG_REPORT)]
    const closed: number[] = []
    const handle = fc.oneof(
      fc.nat(3).map((i) => open[i % open.length]),
      fc.constant(null).map(() => closed[0] ?? -1),
      fc.integer(),
      fc.double(),
      fc.anything(),
    )
    const arg = fc.oneof(fc.string(), fc.double(), fc.integer({ min: -5, max: 300 }), fc.anything(), fc.constant(new Uint8Array(3)))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...names), handle, fc.array(arg, { maxLength: 5 }), fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 8 }), nows), { maxLength: 60 }),
        (calls) => {
          for (const [name, h, rest, ends, now] of calls) {
            if ((name === 'create' || name === 'sCreate') && open.length > 20) continue
            area.ends.set(ends)
            area.now[0] = now
            try {
              const r = binding[name](h, ...rest)
              if ((name === 'create' || name === 'sCreate') && typeof r === 'number') open.push(r)
              if (name === 'close' && typeof h === 'number') {
                const i = open.indexOf(h)
                if (i >= 0) closed.push(...open.splice(i, 1))
                if (open.length === 0) open.push(create(3))
              }
            } catch (err) {
              if (!(err instanceof Error)) throw new Error(`${name} threw a non-Error`)
              if (/PANIC|panic/.test(err.message)) throw err
              if (!(err as { code?: string }).code) throw new Error(`${name} threw an uncoded error: ${err.message}`)
            }
          }
        },
      ),
      { numRuns: 300 },
    )
    // Caches still work afterwards.
    const h = create(2)
    t.is(set(h, 'ok', 0, 0), 0)
    t.is(get(h, 'ok', 0), 0)
    for (const o of [h, ...open]) b.close(o)
  })

  test('NativeEngine: close is idempotent and later use throws', (t) => {
    const engine = new NativeEngine<number>({ capacity: 2, clock: fixedClock })
    engine.set('a', 1, 0)
    engine.close()
    engine.close()
    t.throws(() => engine.get('a'), { message: /not open/ })
  })
}

// ---- the loader: env var, fallback warning, demanded-but-missing error ----

test('ASTRA_CACHE_ENGINE: valid values force the choice, others are a CacheOptionError naming it', (t) => {
  t.is(engineFromEnv({}), undefined)
  t.is(engineFromEnv({ ASTRA_CACHE_ENGINE: '' }), undefined)
  t.is(engineFromEnv({ ASTRA_CACHE_ENGINE: 'JS' }), 'js')
  t.is(selectEngine('native', { ASTRA_CACHE_ENGINE: 'js' }), 'js')
  const err = t.throws(() => engineFromEnv({ ASTRA_CACHE_ENGINE: 'rust' }), { instanceOf: CacheOptionError })
  t.regex(err.message, /ASTRA_CACHE_ENGINE/)
  t.regex(err.message, /"rust"/)
  t.throws(() => selectEngine('fast', {}), { instanceOf: CacheOptionError, message: /engine.*"fast"/ })
  t.throws(() => selectEngine(42, {}), { instanceOf: CacheOptionError, message: /engine.*42/ })
})

/** Runs a script in a child where requiring the native loader fails, as on a machine without a binary. */
function runWithoutBinary(script: string): { stdout: string; stderr: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'astra-native-'))
  const blocker = join(dir, 'block-native.cjs')
  writeFileSync(
    blocker,
    `const Module = require('module'); const orig = Module.prototype.require;
     Module.prototype.require = function (id) { if (/native[\\\\/]index\\.js$/.test(id)) throw new Error('simulated: no binary'); return orig.apply(this, arguments) }`,
  )
  const file = join(dir, 'child.ts')
  writeFileSync(file, script.replaceAll('NATIVE_TS', JSON.stringify(join(__dirname, '..', 'src', 'native.ts'))))
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--require', blocker, file], {
    cwd: join(__dirname, '..'),
    encoding: 'utf8',
    env: { ...process.env, ASTRA_CACHE_ENGINE: '' },
  })
  rmSync(dir, { recursive: true, force: true })
  return { stdout: r.stdout, stderr: r.stderr, status: r.status }
}

test('auto falls back to js with exactly one warning; native then throws with the cause', (t) => {
  const r = runWithoutBinary(`
    const { selectEngine, loadNative, nativeLoadError } = require(NATIVE_TS)
    const warnings: string[] = []
    process.on('warning', (w) => warnings.push((w as any).code + ': ' + w.message))
    const picks = [selectEngine('auto'), selectEngine('auto')]
    let error: any
    try { selectEngine('native') } catch (e) { error = e }
    setImmediate(() => console.log(JSON.stringify({ picks, loaded: loadNative(), cause: nativeLoadError()?.message, warnings,
      error: error && { name: error.name, code: error.code, message: error.message, cause: error.cause?.message } })))
  `)
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string)
  t.deepEqual(out.picks, ['js', 'js'])
  t.is(out.loaded, null)
  t.is(out.warnings.length, 1)
  t.regex(out.warnings[0], /^ASTRA_CACHE_NATIVE_FALLBACK: .*simulated: no binary/)
  t.is(out.error.name, 'NativeEngineUnavailableError')
  t.is(out.error.code, 'ERR_CACHE_NATIVE_UNAVAILABLE')
  t.regex(out.error.message, /engine: 'native'.*simulated: no binary.*npm run build:native/)
  t.regex(out.error.cause, /simulated: no binary/)
})

test('an auto cache that falls back to the JS engine refuses a maxsize beyond the JS limit at construction', (t) => {
  const r = runWithoutBinary(`
    const { InMemoryLRUCache } = require(${JSON.stringify(join(__dirname, '..', 'src', 'memory', 'memory-cache.ts'))})
    process.on('warning', () => {})
    let error: any
    try { new InMemoryLRUCache({ maxsize: 2 ** 24 + 1 }) } catch (e) { error = e }
    const ok = new InMemoryLRUCache({ maxsize: 2 ** 24 })
    console.log(JSON.stringify({ engine: ok.engine, error: error && { name: error.name, code: error.code, message: error.message } }))
  `)
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop() as string)
  t.is(out.engine, 'js')
  t.is(out.error.name, 'CacheOptionError')
  t.is(out.error.code, 'ERR_CACHE_INVALID_OPTION')
  t.regex(out.error.message, /maxsize 16777217 is more than the JS engine holds \(16777216/)
})
