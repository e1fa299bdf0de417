// ESM entry of the package (`import ... from 'astra-cache'`). It re-exports the CommonJS
// build instead of compiling the sources twice, so `import` and `require` share one module
// instance: one default cache, one engine-fallback warning, `instanceof` works across both.
export * from '../index.js'
