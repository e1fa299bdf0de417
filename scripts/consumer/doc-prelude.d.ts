// The names the documentation's examples take from their context, for check.js, which
// compiles every ```ts block of the README and docs/ against the installed package. The
// quick start defines User, db and ada; the others stand for the reader's own code. A name an
// example uses that is neither here nor in the example fails the check.
import type { Cache } from 'astra-cache'
import type { ServerResponse } from 'node:http'

declare global {
  interface User {
    id: string
    name: string
    isAdmin?: boolean
  }
  interface Session {
    userId: string
  }
  interface Connection {
    close(): void
  }
  const db: {
    loadUser(id: string, options?: { signal?: AbortSignal }): Promise<User>
    update(id: string, data: Partial<User>): Promise<void>
  }
  const ada: User
  const user: User
  const id: string
  const key: string
  const load: () => Promise<User>
  /** A cache of users, of any backend (an example that needs one kind makes it). */
  const cache: Cache<User>
  const astraCache: Cache<unknown>
  const logger: Pick<Console, 'warn' | 'info' | 'error'>
  const log: Pick<Console, 'warn' | 'info' | 'error'>
  const metrics: { count(what: string): void }
  const ratesUrl: string
  const redisUrl: string
  const res: ServerResponse
}
