import type { RemovalReason } from '../../src/memory/engine'

/** An onRemove hook that records every call, and the record (reason:key=value, in order). */
export function recordRemovals<V>(): { hook: (key: string, value: V, reason: RemovalReason) => void; log: string[] } {
  const log: string[] = []
  return { log, hook: (key, value, reason) => log.push(`${reason}:${JSON.stringify(key)}=${JSON.stringify(value)}`) }
}

/** The same record for [key, value, reason] triples (a model's). */
export function describeRemovals(removed: readonly (readonly [string, unknown, RemovalReason])[]): string[] {
  return removed.map(([key, value, reason]) => `${reason}:${JSON.stringify(key)}=${JSON.stringify(value)}`)
}
