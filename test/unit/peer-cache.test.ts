import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { PeerCacheDatastore } from '../../src/node/peer-cache.js'

/** A datastore that counts the reads that reach it. */
class CountingDatastore extends MemoryDatastore {
  gets = 0
  /** Reads take this long, and return what was stored when they began */
  readDelayMs = 0
  override async get (key: Key): Promise<Uint8Array> {
    this.gets++
    const value = super.get(key)
    if (this.readDelayMs > 0) await new Promise(resolve => setTimeout(resolve, this.readDelayMs))
    return value
  }
}

const peer = new Key('/peers/abc')
const other = new Key('/dht/record/xyz')
const bytes = (n: number): Uint8Array => Uint8Array.of(n)

describe('PeerCacheDatastore', () => {
  it('reads a peer record from disk once, then from memory', async () => {
    const disk = new CountingDatastore()
    await disk.put(peer, bytes(1))
    const store = new PeerCacheDatastore(disk)
    assert.deepEqual(await store.get(peer), bytes(1))
    assert.deepEqual(await store.get(peer), bytes(1))
    assert.equal(disk.gets, 1)
  })

  it('passes other keys through on every read', async () => {
    const disk = new CountingDatastore()
    await disk.put(other, bytes(1))
    const store = new PeerCacheDatastore(disk)
    await store.get(other)
    await store.get(other)
    assert.equal(disk.gets, 2)
  })

  it('writes through to disk and serves the new value', async () => {
    const disk = new CountingDatastore()
    const store = new PeerCacheDatastore(disk)
    await store.put(peer, bytes(1))
    await store.put(peer, bytes(2))
    assert.deepEqual(await disk.get(peer), bytes(2))
    assert.deepEqual(await store.get(peer), bytes(2))
  })

  it('forgets deleted records, directly and in a batch', async () => {
    const disk = new CountingDatastore()
    const store = new PeerCacheDatastore(disk)
    await store.put(peer, bytes(1))
    await store.delete(peer)
    assert.equal(await store.has(peer), false)
    await assert.rejects(store.get(peer))

    await store.put(peer, bytes(3))
    const batch = store.batch()
    batch.delete(peer)
    batch.put(new Key('/peers/def'), bytes(4))
    await batch.commit()
    await assert.rejects(store.get(peer))
    assert.deepEqual(await store.get(new Key('/peers/def')), bytes(4))
    assert.deepEqual(await disk.get(new Key('/peers/def')), bytes(4))
  })

  it('does not cache a read that raced a write', async () => {
    const disk = new CountingDatastore()
    await disk.put(peer, bytes(1))
    const store = new PeerCacheDatastore(disk)
    // the read starts before the write and ends after it, with the old value
    disk.readDelayMs = 50
    const read = store.get(peer)
    await store.put(peer, bytes(2))
    assert.deepEqual(await read, bytes(1))
    disk.readDelayMs = 0
    assert.deepEqual(await store.get(peer), bytes(2))
  })

  it('keeps at most its size, dropping the oldest', async () => {
    const disk = new CountingDatastore()
    const store = new PeerCacheDatastore(disk, 2)
    for (const n of [1, 2, 3]) await store.put(new Key(`/peers/${n}`), bytes(n))
    disk.gets = 0
    await store.get(new Key('/peers/3'))
    await store.get(new Key('/peers/2'))
    assert.equal(disk.gets, 0)
    assert.deepEqual(await store.get(new Key('/peers/1')), bytes(1))
    assert.equal(disk.gets, 1)
  })

  it('lists what the disk holds', async () => {
    const disk = new CountingDatastore()
    const store = new PeerCacheDatastore(disk)
    await store.put(peer, bytes(1))
    await store.put(other, bytes(2))
    const keys: string[] = []
    for await (const pair of store.query({ prefix: '/peers' })) keys.push(pair.key.toString())
    assert.deepEqual(keys, ['/peers/abc'])
  })
})
