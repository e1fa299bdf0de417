/**
 * The N-API binding (crates/node) on its own: key encoding is exact for all of Unicode,
 * slot reporting lets JS drop dead values, and no argument, however wrong, crashes the
 * process: every mistake is a JS error. Also the loader (src/native.ts): the env var,
 * the single fallback warning, the error when 'native' is demanded but missing.
 */
import test from 'ava'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { CacheOptionError } from '../src/errors'
import { NativeEngine } from '../src/memory/native-engine'
import { engineFromEnv, loadNative, nativeLoadError, selectEngine, type NativeBinding } from '../src/native'

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

  test('slots, misses and the expired encoding', (t) => {
    const h = b.create(2)
    t.is(b.setAt(h, 'a', 0, 0), 0)
    t.is(b.setAt(h, 'b', 10, 0), 1)
    t.is(b.getAt(h, 'a', 5), 0)
    t.is(b.getAt(h, 'zz', 5), -1)
    t.is(b.peekAt(h, 'b', 9), 1)
    t.is(b.peekAt(h, 'b', 10), -1, 'peek treats an entry at its deadline as absent')
    t.is(b.getAt(h, 'b', 10), -(1 + 2), 'expired entry in slot 1 reported as -(slot + 2)')
    t.is(b.removeAt(h, 'a', 10), 0)
    t.is(b.removeAt(h, 'a', 10), -1)
    const out = new Float64Array(6)
    b.counters(h, out)
    // hits, misses, evictions, expirations, sets, size
    t.deepEqual([...out], [1, 2, 0, 1, 2, 0])
    b.close(h)
  })

  test('set reports slots freed by its sweep, and takeSwept hands them over once', (t) => {
    const h = b.create(4)
    b.setAt(h, 'a', 5, 0) // slot 0
    b.setAt(h, 'b', 0, 0) // slot 1; sweep examined slot 0 (live)
    // Cursor is at 1 (high water 2): this sweep examines slot 1 (live), then wraps to slot 0 (a, expired).
    const r = b.setAt(h, 'c', 0, 100)
    t.true(r < 0, 'negative result: the sweep freed something')
    const slot = -r - 1
    t.is(slot, 0, 'the new key reuses the freed slot (LIFO free list)')
    t.is(b.takeSwept(h), 0)
    t.is(b.takeSwept(h), -1)
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
      fc.integer({ min: 120, max: 400 }).map((n) => 'k'.repeat(n)),
      fc.integer({ min: 120, max: 300 }).map((n) => 'ж'.repeat(n)),
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

  test('keys(h) lists keys MRU to LRU and round-trips any string', (t) => {
    const h = b.create(8)
    const ks = ['plain', 'é', '字', '\ud800', '😀', '', 'x'.repeat(300)]
    ks.forEach((k) => b.setAt(h, k, 0, 0))
    b.getAt(h, 'plain', 0)
    t.deepEqual(b.keys(h), ['plain', ...ks.slice(1).reverse()])
    b.close(h)
  })

  test('keys at the stack-buffer boundary', (t) => {
    const h = b.create(1000)
    const keys: string[] = []
    for (let n = 120; n <= 140; n++) keys.push('a'.repeat(n), 'é'.repeat(n), '字'.repeat(n), 'a'.repeat(n - 1) + '字')
    keys.push('z'.repeat(4096))
    keys.forEach((k) => b.setAt(h, k, 0, 0))
    keys.forEach((k, i) => t.is(b.peekAt(h, k, 0), i, `key of length ${k.length}`))
    t.is(b.size(h), keys.length)
    b.close(h)
  })

  test('bad handles and closed engines throw coded JS errors', (t) => {
    const h = b.create(4)
    b.close(h)
    for (const bad of [h, 0, -1, 2 ** 32 - 1, NaN, 1.5, 12345678]) {
      const err = t.throws(() => b.getAt(bad, 'a', 0))
      t.regex(err.message, /not open/)
      t.is((err as Error & { code?: string }).code, 'ERR_ASTRA_NATIVE_HANDLE')
    }
    t.throws(() => b.close(h), { message: /not open/ })
    // A new engine may reuse the index, never the handle.
    const h2 = b.create(4)
    t.not(h2, h)
    t.throws(() => b.setAt(h, 'a', 0, 0), { message: /not open/ })
    t.is(b.setAt(h2, 'a', 0, 0), 0)
    b.close(h2)
  })

  test('wrong argument types throw TypeErrors', (t) => {
    const h = b.create(4)
    const binding = b as unknown as Record<string, (...args: unknown[]) => unknown>
    t.throws(() => binding.getAt(h, 42, 0), { instanceOf: TypeError, message: /key must be a string/ })
    t.throws(() => binding.getAt(h, Symbol('s'), 0), { instanceOf: TypeError })
    t.throws(() => binding.setAt(h, 'k'.repeat(70_000), 0, 0), { instanceOf: TypeError, message: /at most 65536/ })
    t.throws(() => binding.getAt('1', 'a', 0), { instanceOf: TypeError, message: /handle must be a number/ })
    t.throws(() => binding.setAt(h, 'a', '5', 0), { instanceOf: TypeError, message: /ttlMs/ })
    t.throws(() => binding.getAt(h, 'a', 'now'), { instanceOf: TypeError, message: /now/ })
    t.throws(() => binding.getAt(h, 'a'), { instanceOf: TypeError, message: /now/ })
    t.throws(() => binding.counters(h, new Float64Array(5)), { message: /at least 6/ })
    t.throws(() => binding.counters(h, new Float32Array(6)), { message: /Float64Array/ })
    t.throws(() => binding.counters(h, [0, 0, 0, 0, 0, 0]), { message: /Float64Array/ })
    for (const cap of [0, -1, 1.5, NaN, 2 ** 31, '4', undefined]) {
      t.throws(() => binding.create(cap), { instanceOf: TypeError, message: /capacity/ }, String(cap))
    }
    // NaN time and TTL are accepted without harm: such deadlines never pass.
    t.is(b.setAt(h, 'n', NaN, 0), 0)
    t.is(b.getAt(h, 'n', NaN), 0)
    t.is(b.setAt(h, 'm', 5, NaN), 1)
    t.is(b.getAt(h, 'm', 1e12), 1)
    b.close(h)
  })

  test('fuzz: random calls with random arguments never crash the process', (t) => {
    const names = ['create', 'close', 'get', 'getAt', 'peek', 'peekAt', 'set', 'setAt', 'takeSwept', 'remove', 'removeAt', 'clear', 'size', 'counters', 'nativeNowMs'] as const
    const binding = b as unknown as Record<string, (...args: unknown[]) => unknown>
    const open: number[] = [b.create(3)]
    const closed: number[] = []
    const handle = fc.oneof(
      fc.constantFrom(...[0, 1]).map((i) => open[i % open.length]),
      fc.constant(null).map(() => closed[0] ?? -1),
      fc.integer(),
      fc.double(),
      fc.anything(),
    )
    const arg = fc.oneof(
      fc.string(),
      fc.double(),
      fc.integer({ min: -5, max: 100 }),
      fc.anything(),
      fc.constant(new Float64Array(6)),
      fc.constant(new Float64Array(1)),
    )
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), handle, fc.array(arg, { maxLength: 4 })), { maxLength: 60 }), (calls) => {
        for (const [name, h, rest] of calls) {
          if (name === 'create' && open.length > 20) continue
          try {
            const r = binding[name](h, ...rest)
            if (name === 'create' && typeof r === 'number') open.push(r)
            if (name === 'close' && typeof h === 'number') {
              const i = open.indexOf(h)
              if (i >= 0) closed.push(...open.splice(i, 1))
              if (open.length === 0) open.push(b.create(3))
            }
            if (r !== undefined && typeof r !== 'number') throw new Error(`${name} returned ${typeof r}`)
          } catch (err) {
            if (!(err instanceof Error)) throw new Error(`${name} threw a non-Error`)
            if (/returned/.test(err.message)) throw err
          }
        }
      }),
      { numRuns: 300 },
    )
    // Engines still work afterwards.
    const h = b.create(2)
    t.is(b.setAt(h, 'ok', 0, 0), 0)
    t.is(b.getAt(h, 'ok', 0), 0)
    for (const o of [h, ...open]) b.close(o)
  })

  test('fuzz: hot-path and batch functions with random and bad arguments never crash the process', (t) => {
    // Bad rings (out-of-range or vacant slots, lengths past the ring), bad ends/ttls in the
    // shared area, wrong types, closed handles: every mistake is a JS Error, never a crash.
    // The keyless sets (hpInsert/hpUpdate) read now, ttlMs, ringLen and slot from the area's
    // call block: random values there (freed, out-of-range, negative slots) must be errors too.
    const names = ['hpBuffers', 'hpSet', 'hpInsert', 'hpUpdate', 'hpOrder', 'hpRemove', 'hpFlush', 'getMany', 'setMany', 'setAt', 'getAt', 'clear', 'close'] as const
    const binding = b as unknown as Record<string, (...args: unknown[]) => unknown>
    const open: number[] = []
    const areas = new Map<number, { ring: Int32Array; ends: Int32Array; ttls: Float64Array; callF64: Float64Array; callI32: Int32Array }>()
    let opened = 0
    const openOne = () => {
      const h = b.create(4, opened++ % 3 === 2 ? 1 : 0) // some S3-FIFO engines: keyless sets must refuse them
      const buf = b.hpBuffers(h)
      areas.set(h, {
        ring: new Int32Array(buf, 0, 1024),
        ends: new Int32Array(buf, 4096, 256),
        ttls: new Float64Array(buf, 8192, 256),
        callF64: new Float64Array(buf, 10240, 2),
        callI32: new Int32Array(buf, 10256, 2),
      })
      open.push(h)
    }
    openOne()
    const handle = fc.oneof(fc.nat(3).map((i) => open[i % open.length]), fc.integer(), fc.anything())
    const num = fc.oneof(fc.integer({ min: -3, max: 1030 }), fc.double(), fc.constantFrom(0, 1, 2, 256, 257, 1024, 1025, 2 ** 32))
    const arg = fc.oneof(num, fc.string(), fc.anything(), fc.constant(new Int32Array(4)))
    const fill = fc.record({
      ring: fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 8 }),
      ends: fc.array(fc.integer({ min: -1, max: 40 }), { maxLength: 8 }),
      ttl: fc.double(),
      call: fc.tuple(fc.double(), fc.double(), fc.oneof(fc.integer({ min: -2, max: 1030 }), fc.integer()), fc.oneof(fc.integer({ min: -2, max: 6 }), fc.integer())),
    })
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...names), handle, fc.array(arg, { maxLength: 5 }), fill), { maxLength: 40 }), (calls) => {
        for (const [name, h, rest, f] of calls) {
          const area = areas.get(h as number)
          if (area) {
            area.ring.set(f.ring)
            area.ends.set(f.ends)
            area.ttls.fill(f.ttl, 0, 8)
            area.callF64.set([f.call[0], f.call[1]])
            area.callI32.set([f.call[2], f.call[3]])
          }
          try {
            const r = binding[name](h, ...rest)
            if (name === 'close' && areas.has(h as number)) {
              areas.delete(h as number)
              open.splice(open.indexOf(h as number), 1)
              if (open.length === 0) openOne()
            }
            if (r !== undefined && typeof r !== 'number' && !(r instanceof ArrayBuffer) && !Array.isArray(r)) throw new Error(`${name} returned ${typeof r}`)
          } catch (err) {
            if (!(err instanceof Error)) throw new Error(`${name} threw a non-Error`)
            if (/returned|PANIC|panic/.test(err.message)) throw err
          }
        }
      }),
      { numRuns: 300 },
    )
    for (const o of open) b.close(o)
    t.pass()
  })

  test('hot path: a ring with a vacant or out-of-range slot is refused whole, with a clear error', (t) => {
    const h = b.create(4)
    const ring = new Int32Array(b.hpBuffers(h), 0, 1024)
    t.is(b.hpSet(h, 'a', 0, 0, 0), 0)
    t.is(b.hpSet(h, 'b', 0, 0, 0), 1)
    ring.set([0, 7])
    t.throws(() => b.hpFlush(h, 2, 0, 0), { message: /ring\[1\] = 7 is not an occupied slot/ })
    t.deepEqual(b.keys(h), ['b', 'a'], 'nothing of the refused ring was applied')
    ring.set([0, -1])
    t.throws(() => b.hpSet(h, 'c', 0, 0, 2), { message: /ring\[1\] = -1/ })
    t.throws(() => b.hpFlush(h, 1025, 0, 0), { message: /ringLen 1025/ })
    t.throws(() => b.hpRemove(h, 3, 0, 0), { message: /slot 3 is not an occupied slot/ })
    t.throws(() => b.getMany(h, 'ab', 257, 0, 0), { message: /at most 256 keys/ })
    const other = b.create(2)
    t.throws(() => b.hpSet(other, 'x', 0, 0, 0), { message: /hpBuffers first/ })
    ring.set([0])
    b.hpFlush(h, 1, 0, 0)
    t.deepEqual(b.keys(h), ['a', 'b'], 'a valid ring is applied in order')
    b.close(h)
    b.close(other)
  })

  test('keyless sets: free, out-of-range and negative slots and non-LRU engines are clear errors that change nothing', (t) => {
    const h = b.create(2)
    const buf = b.hpBuffers(h)
    const callF64 = new Float64Array(buf, 10240, 2)
    const callI32 = new Int32Array(buf, 10256, 2)
    callF64.set([0, 0]) // now, ttlMs
    callI32.set([0, 0]) // ringLen, slot
    t.is(b.hpInsert(h), 0)
    t.is(b.hpInsert(h), 1)
    t.is(b.hpInsert(h), 0, 'full: the LRU tail (slot 0) is evicted and its slot reused')
    t.deepEqual(b.hpOrder(h, 0), [0, 1])
    for (const slot of [2, 7, -1, 2 ** 31 - 1]) {
      callI32[1] = slot
      t.throws(() => b.hpUpdate(h), { instanceOf: TypeError, message: new RegExp(`slot ${slot} is not an occupied slot`) })
    }
    t.is(b.hpRemove(h, 1, 0, 0), 1)
    callI32[1] = 1
    t.throws(() => b.hpUpdate(h), { message: /slot 1 is not an occupied slot/ }, 'a freed slot is refused')
    callI32[0] = 1025
    t.throws(() => b.hpInsert(h), { message: /ringLen 1025/ })
    callI32[0] = -1
    t.throws(() => b.hpInsert(h), { message: /ringLen -1/ })
    callI32.set([0, 0])
    t.is(b.hpUpdate(h), 0)
    const c = new Float64Array(6)
    b.counters(h, c)
    t.deepEqual([...c], [0, 0, 1, 0, 4, 1], 'refused calls counted nothing: 4 sets, 1 eviction, 1 entry')
    // A deferred insert in the ring (-(victim + 2)) is applied only over the LRU tail of a full cache.
    const ring = new Int32Array(buf, 0, 1024)
    ring[0] = -2
    callI32.set([1, 0])
    t.throws(() => b.hpInsert(h), { message: /ring\[0\] = -2 is not an occupied slot \(or the LRU tail/ }, 'not full')
    b.counters(h, c)
    t.deepEqual([...c], [0, 0, 1, 0, 4, 1])
    callI32.set([0, 2]) // asks for 2 victims: the cache becomes full
    t.is(b.hpInsert(h), 1)
    t.is(callI32[1], 2, 'two victims listed')
    t.deepEqual([...new Int32Array(buf, 10264, 2)], [0, 1], 'LRU tail first')
    ring.set([-3, -2]) // insert over 1: refused, it is not the tail
    callI32.set([2, 0])
    t.throws(() => b.hpFlush(h, 2, 0, 0), { message: /ring\[0\] = -3/ })
    ring.set([-2, -3]) // over 0 (the tail), then over 1 (the tail after it)
    b.hpFlush(h, 2, 0, 0)
    b.counters(h, c)
    t.deepEqual([...c], [0, 0, 3, 0, 7, 2], 'two more sets, each evicting')
    const s3 = b.create(2, 1)
    b.hpBuffers(s3)
    t.throws(() => b.hpInsert(s3), { message: /need an LRU engine/ })
    const noArea = b.create(2)
    t.throws(() => b.hpInsert(noArea), { message: /hpBuffers first/ })
    for (const o of [h, s3, noArea]) b.close(o)
    t.throws(() => b.hpInsert(h), { message: /not open/ })
  })

  test('the engine clock is monotonic and used when no time is passed', (t) => {
    const a = b.nativeNowMs()
    const h = b.create(2)
    t.is(b.set(h, 'k', 60_000), 0)
    t.is(b.get(h, 'k'), 0)
    t.is(b.peek(h, 'k'), 0)
    t.is(b.remove(h, 'k'), 0)
    t.true(b.nativeNowMs() >= a)
    b.close(h)
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
