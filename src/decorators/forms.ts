/**
 * One function, three ways to use it: a function wrapper `cached(opts)(fn)`, a TC39 standard
 * method decorator (TypeScript 5 default), and a legacy `experimentalDecorators` method
 * decorator. Which form is in use is told apart by the arguments the decorator receives.
 */
import { CacheOptionError, describe } from '../errors'
import type { AnyFunction, CacheDecorator } from './types'

export interface NameOf {
  (self: unknown): string
  /** True when no name at all is known (anonymous function in the wrapper form). */
  readonly isAnonymous: boolean
}

export type Wrap = (fn: AnyFunction, nameOf: NameOf) => AnyFunction

export function makeDecorator<K>(what: string, wrap: Wrap): CacheDecorator<K> {
  function decorator(target: unknown, context?: unknown, descriptor?: unknown): unknown {
    // TC39: (method, context) where context.kind says what is decorated.
    if (context !== null && typeof context === 'object' && 'kind' in context) {
      const ctx = context as ClassMethodDecoratorContext
      if (ctx.kind !== 'method' || typeof target !== 'function') {
        throw new CacheOptionError(`${what}() decorates methods only, not a ${String(ctx.kind)} (${String(ctx.name)})`)
      }
      let replacement: AnyFunction
      const nameOf = methodNameResolver(ctx.name, ctx.private, () => replacement)
      replacement = wrap(target as AnyFunction, nameOf)
      return replacement
    }
    // Legacy experimentalDecorators: (prototype or constructor, name, descriptor).
    if ((typeof context === 'string' || typeof context === 'symbol') && descriptor !== null && typeof descriptor === 'object') {
      const desc = descriptor as PropertyDescriptor
      if (typeof desc.value !== 'function') {
        throw new CacheOptionError(`${what}() decorates methods only; ${String(context)} is not a method`)
      }
      const owner = typeof target === 'function' ? target : (target as { constructor?: { name?: string } } | null)?.constructor
      const name = `${owner?.name || 'anonymous class'}.${String(context)}`
      desc.value = wrap(desc.value as AnyFunction, fixedName(name))
      return desc
    }
    // Wrapper: (fn).
    if (typeof target === 'function' && context === undefined && descriptor === undefined) {
      return wrap(target as AnyFunction, fixedName(target.name))
    }
    throw new CacheOptionError(`${what}() must wrap a function or decorate a method, got ${describe(target)}`)
  }
  return decorator as CacheDecorator<K>
}

function fixedName(name: string): NameOf {
  return Object.assign(() => name, { isAnonymous: name === '' })
}

/**
 * TC39 decorators do not tell the class name; it is found at the first call by walking
 * `this`'s prototype chain to the object that owns the decorated method (so a subclass
 * instance still keys as the defining class), then remembered.
 */
function methodNameResolver(member: string | symbol, isPrivate: boolean, replacement: () => AnyFunction): NameOf {
  const memberName = String(member)
  let resolved: string | undefined
  const nameOf = (self: unknown): string => {
    if (resolved !== undefined) return resolved
    let owner: unknown = isPrivate ? undefined : findOwner(self, member, replacement())
    if (owner === undefined) owner = typeof self === 'function' ? self : (self as { constructor?: unknown } | null | undefined)?.constructor
    const className = (owner as { name?: string } | undefined)?.name
    if (className === undefined) return memberName // detached call: do not remember
    resolved = `${className || 'anonymous class'}.${memberName}`
    return resolved
  }
  return Object.assign(nameOf, { isAnonymous: false })
}

function findOwner(self: unknown, member: string | symbol, fn: AnyFunction): unknown {
  let object: unknown = self
  while (object !== null && (typeof object === 'object' || typeof object === 'function')) {
    if (Object.getOwnPropertyDescriptor(object, member)?.value === fn) {
      return typeof object === 'function' ? object : (object as { constructor?: unknown }).constructor
    }
    object = Object.getPrototypeOf(object)
  }
  return undefined
}
