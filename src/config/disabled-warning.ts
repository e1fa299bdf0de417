/**
 * A cache that is off because nobody said otherwise is a silent no-op: decorated functions
 * simply run, and nothing tells the developer why nothing is cached. One process warning
 * names the variable that turns caching on; setting CACHE_ENABLED (to anything) silences it.
 */
import type { Env } from './env'

let warned = false

/** Warns once per process when caching is off only because CACHE_ENABLED was never set. */
export function warnIfDisabledByDefault(env: Env, enabledOverride: boolean | undefined, who: string): void {
  if (warned || enabledOverride !== undefined) return
  const raw = env.CACHE_ENABLED
  if (typeof raw === 'string' && raw.trim() !== '') return
  warned = true
  process.emitWarning(
    `${who} is a NullCache that stores nothing: caching is disabled by default. Set CACHE_ENABLED=true to enable it (CACHE_ENABLED=false silences this warning)`,
    { type: 'CacheDisabledWarning', code: 'ASTRA_CACHE_DISABLED' },
  )
}
