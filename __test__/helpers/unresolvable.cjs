// Preloaded with `node --require` to make packages unresolvable in a child process, as if they
// were not installed: UNRESOLVABLE=ioredis,prom-client. Resolution throws the error Node
// throws for a missing package (code MODULE_NOT_FOUND, the name quoted in the message).
'use strict'
const Module = require('node:module')
const blocked = new Set((process.env.UNRESOLVABLE || '').split(',').filter(Boolean))
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  const name = request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0]
  if (blocked.has(name)) {
    const err = new Error(`Cannot find module '${request}'`)
    err.code = 'MODULE_NOT_FOUND'
    throw err
  }
  return resolve.call(this, request, ...rest)
}
