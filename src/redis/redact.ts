/**
 * Keeps Redis credentials out of everything we print or emit. ioredis errors can carry the
 * AUTH/HELLO arguments (`err.command.args`) and a bad URL can carry `user:pass@`, so every
 * error we emit or throw is rebuilt from a redacted message, never passed through as is.
 */

/**
 * The user part of a URL: after `scheme://` (or a bare `//`) anywhere in a text, or at the start of the
 * text (a URL given without its scheme). It ends at the last `@` of the token, so a password
 * holding a raw `@` or `/` (an invalid URL) is still masked whole.
 */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/|\/\/|^)([^\s]*)@/gi

/**
 * Masks the password (or a lone token) in every URL of `text`, kept readable otherwise:
 * `redis://user:pw@host:6379/1` -> `redis://user:***@host:6379/1`, `rediss://token@host` ->
 * `rediss://***@host`. Works on strings that are not valid URLs and on messages holding URLs.
 */
export function redactUrl(text: string): string {
  return text.replace(USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return `${scheme}${colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`}@`
  })
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
