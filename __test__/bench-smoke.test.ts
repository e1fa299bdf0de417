/**
 * The bench's own building blocks (not its speed: no timing here). `npm run bench -- --quick`
 * in .ci/run exercises the whole thing; these catch broken inputs and reports early.
 */
import test from 'ava'
import { admissionOracle } from '../bench/admission-oracle'
import { parseArgs } from '../bench/args'
import { toSections } from '../bench/optional-module'
import { makeKeys, opStream, zipfStream } from '../bench/prng'
import { mergeSections, mergeSummary, ratioTable } from '../bench/report'
import { type PolicyCell, policyGapTable, targetMisses } from '../bench/suites/policy-hit-ratio'
import { fmt, renderMarkdown } from '../bench/table'
import { findTrace, readTrace, traceDirs } from '../bench/traces'

test('keys have the exact length, are distinct, and repeat with the seed', (t) => {
  for (const len of [16, 128]) {
    const keys = makeKeys(5000, len, 1, 'h')
    t.true(keys.every((k) => k.length === len))
    t.is(new Set(keys).size, keys.length)
    t.deepEqual(makeKeys(50, len, 1, 'h'), keys.slice(0, 50))
  }
  t.notDeepEqual(makeKeys(50, 16, 2, 'h'), makeKeys(50, 16, 1, 'h'))
})

test('the Zipf(0.99) stream is skewed as Zipf predicts and is deterministic', (t) => {
  const n = 10_000
  const s = zipfStream(n, 0.99, 200_000, 7)
  t.deepEqual(s, zipfStream(n, 0.99, 200_000, 7))
  const counts = new Map<number, number>()
  for (const k of s) counts.set(k, (counts.get(k) ?? 0) + 1)
  const sorted = [...counts.values()].sort((a, b) => b - a)
  // H(10000, 0.99) ~ 10.1, so the top key takes ~9.9 % and the top 1 % of keys ~ 50 %
  t.true(sorted[0] / s.length > 0.08 && sorted[0] / s.length < 0.12, `top share ${sorted[0] / s.length}`)
  const top100 = sorted.slice(0, 100).reduce((a, b) => a + b, 0) / s.length
  t.true(top100 > 0.45 && top100 < 0.6, `top-100 share ${top100}`)
  t.true(s.every((k) => k >= 0 && k < n))
})

test('the op stream has the requested share of writes', (t) => {
  const ops = opStream(100_000, 0.1, 3)
  const writes = ops.reduce((a, b) => a + b, 0)
  t.true(writes > 9_500 && writes < 10_500, `${writes} writes`)
})

test('arguments: --quick, --traces, --only; unknown ones are rejected by name', (t) => {
  const a = parseArgs(['--quick', '--traces', '/tmp/tr', '--only', 'memory, hit-ratio'])
  t.true(a.quick)
  t.is(a.tracesDir, '/tmp/tr')
  t.deepEqual([...a.only!], ['memory', 'hit-ratio'])
  t.throws(() => parseArgs(['--fast']), { message: /unknown argument "--fast"/ })
  t.throws(() => parseArgs(['--traces']), { message: /--traces needs a value/ })
  t.deepEqual(parseArgs(['--climber', 'gli@253, synth-recency@1857']).climber, [
    { trace: 'gli', capacity: 253 },
    { trace: 'synth-recency', capacity: 1857 },
  ])
  t.throws(() => parseArgs(['--climber', 'gli']), { message: /--climber takes trace@capacity cells, got "gli"/ })
  t.throws(() => parseArgs(['--climber', 'gli@0']), { message: /--climber takes trace@capacity/ })
})

test('the policy table gives each policy minus LRU, the gap to OPT and the means; missed targets are named', (t) => {
  const cell = (trace: string, synthetic: boolean, lru: number, s3fifo: number, tinylfu: number): PolicyCell => ({
    trace,
    synthetic,
    literature: false,
    capacity: 100,
    requests: 1000,
    opt: 50,
    pct: { lru, s3fifo, tinylfu, 'tinylfu-fixed': 10 },
  })
  const cells = [cell('a', false, 20, 30, 29.5), cell('b', false, 40, 35, 38.5), cell('s', true, 10, 10, 12)]
  const table = policyGapTable(cells)
  t.deepEqual(table.rows[0], ['a @ 100', '20.00', '50.00', '+10.00', '+9.50', '-10.00', '30.00', '20.00', '20.50', '40.00'])
  t.deepEqual(table.rows[2], ['mean, real traces, 0.1 / 1 / 10 % capacities (2 cells)', '30.00', '50.00', '+2.50', '+4.00', '-20.00', '20.00', '17.50', '16.00', '40.00'])
  t.is(table.rows[4][0], 'mean, synthetic traces, 0.1 / 1 / 10 % capacities (1 cell)')
  t.deepEqual(targetMisses(cells), ['b @ 100: -1.50 vs LRU'])
  t.deepEqual(targetMisses([cell('c', false, 20, 30, 28.9)]), ['c @ 100: -1.10 vs S3-FIFO'])
})

test('Markdown tables escape pipes and right-align numbers', (t) => {
  const md = renderMarkdown({ title: 'T', columns: ['cache', 'ns/op'], rows: [['a|b', 12.345], ['c', null]] })
  t.true(md.includes('| a\\|b | 12.3 |'))
  t.true(md.includes('|---|---:|'))
  t.is(fmt(1234567), '1,234,567')
  t.is(fmt(3), '3')
})

test('optional sections: Section, {table} and skipped results all become sections', (t) => {
  const table = { title: 'x', columns: ['a'], rows: [[1]] }
  t.is(toSections('r', 'R', { table })[0].tables.length, 1)
  t.deepEqual(toSections('r', 'R', { skipped: 'no server' })[0].notes, ['skipped: no server'])
  t.is(toSections('r', 'R', [{ title: 'A', tables: [table] }, { title: 'B', tables: [table] }]).length, 2)
  t.regex(toSections('r', 'R', 42)[0].notes[0], /no tables/)
})

test('the summary divides astra by lru-cache from the same run', (t) => {
  const row = (scenario: string, competitor: string, ns: number) => ({ scenario, competitor, ns, p25: ns, p75: ns, opsPerSec: 1e9 / ns, samples: 1 })
  const table = ratioTable({
    throughput: [row('get-hit-k16', 'lru-cache', 60), row('get-hit-k16', 'astra native (engine)', 30), row('get-hit-k16', 'astra js (engine)', 90)],
  })!
  t.deepEqual(table.rows, [['get hit (16-char keys)', '0.50×', '1.50×']])
})

test('a partial run replaces only its own sections of the full report, and says so', (t) => {
  const full = ['<!-- generated by `npm run bench` on D1 -->', '', 'summary', '', '### A', '', 'old a', '', '### B', '', 'old b', '', '### C', '', 'old c', ''].join('\n')
  const section = (title: string) => ({ id: title, title, tables: [], notes: [] })
  const merged = mergeSections(full, [section('B'), section('D')], ['### B\n\nnew b\n', '### D\n\nnew d\n'], '`npm run bench -- --only x` on D2')
  const lines = merged.split('\n')
  t.is(lines[0], '<!-- generated by `npm run bench` on D1 -->')
  t.is(lines[1], '<!-- sections "B", "D" replaced by `npm run bench -- --only x` on D2 -->')
  t.true(merged.includes('### A\n\nold a\n'), 'an earlier section is kept')
  t.true(merged.includes('### B\n\nnew b\n\n### C'), 'the section is replaced up to the next one')
  t.false(merged.includes('old b'))
  t.true(merged.includes('### C\n\nold c'), 'a later section is kept')
  t.true(merged.trimEnd().endsWith('### D\n\nnew d'), 'a new section is appended')
})

test('a partial run replaces the summary rows and charts it measured, marked with its date, and nothing else', (t) => {
  const chart = (title: string, bar: string) => ['```mermaid', 'xychart-beta', `  title "${title}"`, '  x-axis ["a"]', '  y-axis "ns/op" 0 --> 9', `  bar [${bar}]`, '```'].join('\n')
  const full = [
    '<!-- generated -->',
    '',
    '| metric | native | js |',
    '|---|---:|---:|',
    '| get hit (16-char keys) | 1.45× | 0.68× |',
    '| RSS per entry, object values | 0.85× | 1.06× |',
    '',
    chart('get hit, ns/op (lower is better)', '1'),
    '',
    chart('RSS bytes per entry', '2'),
    '',
    '### Section',
    '',
    '| get hit (16-char keys) | untouched |',
    '',
  ].join('\n')
  const summary = { title: 's', columns: ['metric', 'native', 'js'], rows: [['get hit (16-char keys)', '1.28×', '0.60×'], ['not in the report', '1×', '1×']] }
  const once = mergeSummary(full, summary, [chart('get hit, ns/op (lower is better)', '7')], '2026-12-04')
  t.true(once.includes('| get hit (16-char keys) (rerun 2026-12-04) | 1.28× | 0.60× |\n| RSS per entry, object values | 0.85× | 1.06× |'))
  t.false(once.includes('1.45×'))
  t.false(once.includes('not in the report'), 'a row the report lacks is not invented')
  t.true(once.includes('title "get hit, ns/op (lower is better) · rerun 2026-12-04"\n  x-axis ["a"]\n  y-axis "ns/op" 0 --> 9\n  bar [7]\n```'))
  t.true(once.includes('title "RSS bytes per entry"') && once.includes('bar [2]'), 'a chart not rerun is kept')
  t.true(once.includes('### Section\n\n| get hit (16-char keys) | untouched |'), 'sections are left to mergeSections')
  const twice = mergeSummary(once, { ...summary, rows: [['get hit (16-char keys)', '1.30×', '0.61×']] }, [chart('get hit, ns/op (lower is better)', '8')], '2026-12-05')
  t.true(twice.includes('| get hit (16-char keys) (rerun 2026-12-05) | 1.30× | 0.61× |'), 'a rerun row is replaced again')
  t.false(twice.includes('2026-12-04'))
  t.true(twice.includes('bar [8]') && !twice.includes('bar [7]'))
})

test('the admission oracle reads the future only while it runs: web12 @ 138 as in docs/policies.md', (t) => {
  const file = findTrace('web12', traceDirs())
  if (file === undefined) return t.fail('web12.keys.gz is in __test__/fixtures/traces')
  const keys = readTrace(file)
  const pct = (r: number) => r.toFixed(2)
  const first = admissionOracle(keys, 138)
  t.deepEqual([first.lru, first.sketch - first.lru, first.oracle - first.lru].map(pct), ['39.79', '3.38', '5.68'])
  // the shipped admission is back afterwards: the same W-TinyLFU result again
  t.is(admissionOracle(keys, 138).sketch, first.sketch)
})
