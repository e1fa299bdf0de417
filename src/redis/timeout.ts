import { TimeoutError } from '../errors'

/**
 * Settles like `promise`, or rejects with TimeoutError after `ms`. The late outcome of
 * `promise` is consumed, so it can never surface as an unhandled rejection.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'redis command'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(ms, what)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err) => {
        clearTimeout(timer)
        reject(err)
      },
    )
  })
}
