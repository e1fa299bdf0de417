import { sleep } from './redis-server'

/**
 * Polls `check` every `everyMs` until it returns true, for at most `withinMs`; the answer is
 * whether it did (bounds are generous: this is no timing assertion).
 */
export async function eventually(check: () => Promise<boolean> | boolean, withinMs = 5_000, everyMs = 10): Promise<boolean> {
  const deadline = Date.now() + withinMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(everyMs)
  }
  return check()
}
