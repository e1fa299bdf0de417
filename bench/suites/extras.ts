/** Sections owned by other modules (metrics, decorators, shared workers, machine-wide cache), when they export one. */
import type { BenchConfig } from '../config'
import { findExportedFunction, toSections } from '../optional-module'
import type { Section } from '../table'

const EXTRAS = [
  { file: 'metrics.ts', id: 'metrics', title: 'Metrics cost', preferred: ['metricsSection'] },
  { file: 'decorators.ts', id: 'decorators', title: 'Decorators overhead', preferred: ['decoratorsSection', 'runDecoratorsBench'] },
  { file: 'shared-workers.ts', id: 'shared-workers', title: 'One shared cache, several worker threads', preferred: ['sharedWorkersSection'] },
  { file: 'shared-memory.ts', id: 'shared-memory', title: 'Machine-wide cache (shared memory, several processes)', preferred: ['sharedMemorySection'] },
]

export async function runExtras(cfg: BenchConfig, log: (s: string) => void): Promise<{ sections: Section[]; raw: Record<string, unknown> }> {
  const sections: Section[] = []
  const raw: Record<string, unknown> = {}
  for (const x of EXTRAS) {
    const found = findExportedFunction(x.file, x.preferred)
    if (!found.fn) {
      log(`  ${x.id}: skipped: ${found.reason}`)
      sections.push({ id: x.id, title: x.title, tables: [], notes: [`skipped: ${found.reason}`] })
      continue
    }
    log(`  ${x.id}: ${x.file} ${found.name}()`)
    try {
      // harness options too, for functions that take them instead of `quick`
      const r = await found.fn({ quick: cfg.quick, time: cfg.time, warmupTime: cfg.warmupTime, rounds: cfg.rounds })
      raw[x.id] = r
      sections.push(...toSections(x.id, x.title, r))
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e)
      sections.push({ id: x.id, title: x.title, tables: [], notes: [`failed: ${why}`] })
    }
  }
  return { sections, raw }
}
