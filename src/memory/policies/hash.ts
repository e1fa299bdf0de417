/**
 * The key hash the eviction policies share with crates/core (policy/hash.rs): FNV-1a over
 * the key's UTF-16 code units, seeded, then murmur3's 32-bit finalizer. The Rust side
 * hashes the same units out of the binding's key encoding, so both engines get the same
 * 32 bits for the same key and seed (pinned in __test__/policies-hash.test.ts).
 */
export function keyHash(key: string, seed: number): number {
  let h = (seed ^ 0x811c9dc5) | 0
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return fmix32(h)
}

/** murmur3's finalizer; returns an unsigned 32-bit integer. */
export function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}
