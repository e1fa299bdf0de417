import { CacheOptionError, describe } from '../../errors'
import { POLICY_NAMES, type PolicyName } from './policy'

/** Validates the `policy` option (or CACHE_POLICY, named by `what`). */
export function checkPolicy(value: unknown, what = 'policy'): PolicyName {
  if (typeof value !== 'string' || !(POLICY_NAMES as readonly string[]).includes(value)) {
    throw new CacheOptionError(`${what} must be one of 'lru', 's3fifo', 'tinylfu'; got ${describe(value)}`)
  }
  return value as PolicyName
}
