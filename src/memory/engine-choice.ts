import { CacheOptionError, NativeEngineUnavailableError, describe } from '../errors'
import { loadNative, nativeLoadError } from '../native'
import type { Engine, EngineOptions } from './engine'
import { JsEngine } from './js-engine'
import { NativeEngine } from './native-engine'

export type EngineChoice = 'native' | 'js' | 'auto'

const CHOICES: readonly string[] = ['native', 'js', 'auto']
/** Operators can force the engine of every cache in the process, whatever the code asked for. */
export const ENGINE_ENV = 'ASTRA_CACHE_ENGINE'

let warnedFallback = false

/** The engine asked for, after ASTRA_CACHE_ENGINE (when set) overrides the option. */
export function effectiveChoice(option: unknown, env: NodeJS.ProcessEnv = process.env): EngineChoice {
  if (typeof option !== 'string' || !CHOICES.includes(option)) {
    throw new CacheOptionError(`engine must be 'native', 'js' or 'auto', got ${describe(option)}`)
  }
  const forced = env[ENGINE_ENV]
  if (forced === undefined || forced.trim() === '') return option as EngineChoice
  const value = forced.trim().toLowerCase()
  if (!CHOICES.includes(value)) {
    throw new CacheOptionError(`${ENGINE_ENV} must be 'native', 'js' or 'auto', got ${describe(forced)}`)
  }
  return value as EngineChoice
}

export function createEngine<V>(option: unknown, options: EngineOptions): Engine<V> {
  const choice = effectiveChoice(option)
  if (choice === 'js') return new JsEngine<V>(options)
  if (loadNative() !== null) return new NativeEngine<V>(options)
  if (choice === 'native') {
    throw new NativeEngineUnavailableError(
      `engine 'native' was requested but the native binary could not be loaded: ${String(nativeLoadError())}`,
      { cause: nativeLoadError() },
    )
  }
  if (!warnedFallback) {
    warnedFallback = true
    process.emitWarning(
      `astra-cache: the native engine could not be loaded (${String(nativeLoadError())}); using the pure-JS engine. ` +
        `Set ${ENGINE_ENV}=js to silence this warning, or build the addon with \`npm run build:native\`.`,
      { code: 'ASTRA_CACHE_JS_FALLBACK' },
    )
  }
  return new JsEngine<V>(options)
}
