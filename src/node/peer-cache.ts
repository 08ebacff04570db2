import { BaseDatastore } from 'datastore-core'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'

/** Where libp2p's peer store keeps its records. */
export const PEER_STORE_PREFIX = '/peers/'
/** Records held in memory; a home, lab or office network has far fewer peers. */
export const DEFAULT_PEER_CACHE_SIZE = 4_096

/**
 * A datastore that keeps the peer store's records in memory in front of the
 * one on disk. libp2p's peer store reads a peer's record from the datastore
 * on every merge, and the DHT merges the peers named in every answer: on a
 * busy node those reads were most of its LevelDB time. Writes and deletes go
 * through to disk at once, so nothing is lost on a crash; every other key is
 * passed through untouched.
 */
export class PeerCacheDatastore extends BaseDatastore {
  private readonly cache = new Map<string, Uint8Array>()
  /** Counts writes begun and ended, so a read that raced one is not cached */
  private writes = 0

  constructor (private readonly store: Datastore, private readonly maxEntries = DEFAULT_PEER_CACHE_SIZE) {
    super()
  }

  private cached (key: Key): boolean {
    return key.toString().startsWith(PEER_STORE_PREFIX)
  }

  private remember (key: string, value: Uint8Array): void {
    this.cache.delete(key)
    this.cache.set(key, value)
    // the oldest entry goes first (Map keeps insertion order)
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string)
  }

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (!this.cached(key)) return this.store.put(key, value, options)
    this.cache.delete(key.toString())
    this.writes++
    try {
      await this.store.put(key, value, options)
    } finally {
      this.writes++
    }
    this.remember(key.toString(), value)
    return key
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (!this.cached(key)) return this.store.get(key, options)
    const hit = this.cache.get(key.toString())
    if (hit != null) return hit
    const writes = this.writes
    const value = await this.store.get(key, options)
    if (writes === this.writes) this.remember(key.toString(), value)
    return value
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    if (this.cached(key) && this.cache.has(key.toString())) return true
    return this.store.has(key, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    this.cache.delete(key.toString())
    this.writes++
    try {
      await this.store.delete(key, options)
    } finally {
      this.writes++
    }
  }

  override batch (): Batch {
    const inner = this.store.batch()
    const puts = new Map<string, Uint8Array>()
    const deletes = new Set<string>()
    return {
      put: (key, value) => {
        inner.put(key, value)
        if (this.cached(key)) { puts.set(key.toString(), value); deletes.delete(key.toString()) }
      },
      delete: (key) => {
        inner.delete(key)
        if (this.cached(key)) { deletes.add(key.toString()); puts.delete(key.toString()) }
      },
      commit: async (options) => {
        for (const key of [...puts.keys(), ...deletes]) this.cache.delete(key)
        this.writes++
        try {
          await inner.commit(options)
        } finally {
          this.writes++
        }
        for (const [key, value] of puts) this.remember(key, value)
      }
    }
  }

  override query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this.store.query(q, options) as AsyncGenerator<Pair>
  }

  override queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.store.queryKeys(q, options) as AsyncGenerator<Key>
  }
}
