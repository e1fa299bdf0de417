/**
 * Every error astra-cache throws is a CacheError with a stable `code` (all of them live here).
 * Subclasses keep the built-in semantics users test for (`instanceof TypeError`
 * does not hold, but `err.name` and `err.code` are stable and documented).
 */
export type CacheErrorCode =
  | 'ERR_CACHE_INVALID_KEY'
  | 'ERR_CACHE_INVALID_VALUE'
  | 'ERR_CACHE_INVALID_TTL'
  | 'ERR_CACHE_INVALID_OPTION'
  | 'ERR_CACHE_CONFIG'
  | 'ERR_CACHE_UNAVAILABLE'
  | 'ERR_CACHE_CLOSED'
  | 'ERR_CACHE_SERIALIZE'
  | 'ERR_CACHE_NATIVE_UNAVAILABLE'
  | 'ERR_CACHE_KEY_ENCODING'
  | 'ERR_CACHE_MISSING_DEPENDENCY'
  | 'ERR_CACHE_LOADER_TIMEOUT'
  | 'ERR_CACHE_UNSUPPORTED_PLATFORM'
  | SegmentErrorCode

export class CacheError extends Error {
  readonly code: CacheErrorCode
  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** A key that is not a string, or is too long. */
export class CacheKeyError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_INVALID_KEY', message, options)
  }
}

/** `undefined` as a value, or a value the serializer cannot carry. */
export class CacheValueError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_INVALID_VALUE', message, options)
  }
}

/** A TTL that is negative, NaN or not a number. */
export class CacheTtlError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_INVALID_TTL', message, options)
  }
}

/** A constructor option of the wrong type or out of range. */
export class CacheOptionError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_INVALID_OPTION', message, options)
  }
}

/** A bad environment variable (createCache). */
export class CacheConfigError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_CONFIG', message, options)
  }
}

/** The backend could not be reached (only thrown when the user opted into failOpen: false). */
export class CacheUnavailableError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_UNAVAILABLE', message, options)
  }
}

/** Any use after close(). */
export class CacheClosedError extends CacheError {
  constructor(name: string) {
    super('ERR_CACHE_CLOSED', `cache "${name}" is closed`)
  }
}

/** A value the serializer cannot represent (BigInt, function, cycle...), or bytes it cannot read. */
export class CacheSerializationError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_SERIALIZE', message, options)
  }
}

/** engine: 'native' was demanded but no binary could be loaded. */
export class NativeEngineUnavailableError extends CacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_NATIVE_UNAVAILABLE', message, options)
  }
}

/** A feature this platform cannot provide (a machine-wide cache off Linux). */
export class CacheUnsupportedPlatformError extends CacheError {
  constructor(message: string) {
    super('ERR_CACHE_UNSUPPORTED_PLATFORM', message)
  }
}

/**
 * A machine-wide cache's segment refused or failed: made for other parameters or another
 * layout (MISMATCH), owned by another user (PERMISSION), a shard lock not acquired in time
 * (LOCK_TIMEOUT), or a file system error (IO). The message names the file and the field.
 */
export type SegmentErrorCode = 'ERR_CACHE_SEGMENT_MISMATCH' | 'ERR_CACHE_SEGMENT_PERMISSION' | 'ERR_CACHE_SEGMENT_IO' | 'ERR_CACHE_LOCK_TIMEOUT'

export class CacheSegmentError extends CacheError {
  declare readonly code: SegmentErrorCode
  constructor(code: SegmentErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** An argument the default key of cached() cannot encode (a function, a symbol, a cycle, a class instance...). */
export class CacheKeyEncodingError extends CacheError {
  constructor(message: string) {
    super('ERR_CACHE_KEY_ENCODING', message)
  }
}

/** An optional package a feature needs (ioredis, prom-client, msgpackr) is not installed; `packageName` says which. */
export class CacheDependencyError extends CacheError {
  readonly packageName: string
  constructor(packageName: string, neededBy: string, options?: { cause?: unknown }) {
    super('ERR_CACHE_MISSING_DEPENDENCY', `${neededBy} needs the package "${packageName}", which is not installed: run \`npm install ${packageName}\``, options)
    this.packageName = packageName
  }
}

/**
 * A getOrSet or cached() loader that did not settle within its hard timeout (`timeouts.hard`).
 * Every caller waiting for that load gets it; the loader's signal is aborted with it as reason.
 */
export class CacheLoaderTimeoutError extends CacheError {
  readonly key: string
  readonly timeoutMs: number
  constructor(key: string, timeoutMs: number) {
    super('ERR_CACHE_LOADER_TIMEOUT', `the loader of key ${describe(key)} did not settle within its hard timeout of ${timeoutMs} ms`)
    this.key = key
    this.timeoutMs = timeoutMs
  }
}

/**
 * A backend call that did not answer within its budget (commandTimeoutMs). Never thrown by
 * itself: it is the `cause` of the CacheUnavailableError (failOpen: false) or 'error' event.
 */
export class TimeoutError extends Error {
  constructor(ms: number, what: string) {
    super(`${what} timed out after ${Math.round(ms)} ms`)
    this.name = 'TimeoutError'
  }
}

/** Describe a user-supplied value for an error message without dumping it whole. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value
    return `${JSON.stringify(shown)} (string${value.length > 40 ? ` of length ${value.length}` : ''})`
  }
  if (typeof value === 'bigint') return `${value}n (bigint)`
  if (typeof value === 'function') return `a function`
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return `${String(value)} (${typeof value})`
}
