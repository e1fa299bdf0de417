import { CacheDependencyError } from './errors'

/**
 * The optional packages some features need (ioredis for Redis and the invalidation bus,
 * prom-client for PrometheusSink, msgpackr for msgpackSerializer), loaded when such a feature is
 * first built, never when the package is imported: a memory-only user pays nothing for them and
 * need not install them. A package that cannot be found is a CacheDependencyError naming it.
 */
const loaded = new Map<string, unknown>()

export function requireOptional<T>(packageName: 'ioredis' | 'prom-client' | 'msgpackr', neededBy: string): T {
  const known = loaded.get(packageName)
  if (known !== undefined) return known as T
  let module: T
  try {
    module = require(packageName) as T
  } catch (err) {
    // Only the package itself missing; an error inside it (or a missing module of its own) is its own.
    const missing = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(`'${packageName}'`)
    if (missing) throw new CacheDependencyError(packageName, neededBy, { cause: err })
    throw err
  }
  loaded.set(packageName, module)
  return module
}
