/** The keys InMemoryLRUCache's options know (memory-cache.ts), and those InMemoryLRUCache.shared adds (shared-registry.ts). */
export const MEMORY_OPTION_KEYS = ['maxsize', 'defaultTtl', 'metricsSink', 'name', 'engine', 'storage', 'clock', 'serializer', 'maxBytes', 'policy', 'dispose', 'timeouts'] as const
export const SHARED_SCOPE_KEYS = ['shards', 'scope', 'dir', 'mode', 'lockTimeout'] as const
