/**
 * Keeps Redis credentials out of everything we print or emit. ioredis errors can carry the
 * AUTH/HELLO arguments (`err.command.args`) and a bad URL can carry `user:pass@`, so every
 * error we emit or throw is rebuilt from a redacted message, never passed through as is.
 */

const USERINFO = /\/\/[^/@\s]*@/g

/** `redis://user:secret@host` -> `redis://***@host`; works on strings that are not valid URLs too. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '//***@')
}

export class Redactor {
  private readonly secrets: string[]

  constructor(secrets: readonly (string | undefined)[]) {
    // Short secrets would redact innocent text; a 1-2 character password is still masked in URLs by redactUrl.
    this.secrets = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 3)
  }

  text(message: string): string {
    let out = redactUrl(message)
    for (const secret of this.secrets) out = out.split(secret).join('***')
    return out
  }

  /**
   * A copy of `err` safe to show: same name, code and (redacted) message, no `command`
   * arguments, and a redacted copy of its own cause chain (bounded depth).
   */
  error(err: unknown, depth = 0): Error {
    if (!(err instanceof Error)) return new Error(this.text(String(err)))
    const copy = new Error(this.text(err.message), depth < 3 && err.cause !== undefined ? { cause: this.error(err.cause, depth + 1) } : undefined)
    copy.name = err.name
    const code = (err as { code?: unknown }).code
    if (typeof code === 'string' || typeof code === 'number') (copy as { code?: unknown }).code = code
    if (err.stack) copy.stack = this.text(err.stack)
    return copy
  }
}
