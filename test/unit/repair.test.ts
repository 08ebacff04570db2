import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Catalog } from '../../src/backup/catalog.js'
import { cidOf } from '../../src/chunking/index.js'
import { Repairer } from '../../src/replication/repair.js'
import { delay } from '../../src/util/concurrency.js'
import type { CatalogEntry } from '../../src/backup/catalog.js'
import type { BackpackPeers } from '../../src/replication/peers.js'
import type { PeerId } from '@libp2p/interface'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

describe('Repairer (unit, stub network)', () => {
  it('copies at most maxConcurrent chunks at once when every holder vanished', async () => {
    const self = await newPeer()
    const gone = await Promise.all([newPeer(), newPeer()])
    const fresh = await Promise.all([newPeer(), newPeer(), newPeer()])
    const catalog = new Catalog({ datastore: new MemoryDatastore() })
    const chunks = Array.from({ length: 40 }, (_, i) => ({
      cid: cidOf(new TextEncoder().encode(`chunk ${i}`)).toString(),
      size: 7,
      holders: gone.map(p => p.toString())
    }))
    const entry: CatalogEntry = {
      id: cidOf(new TextEncoder().encode('manifest')).toString(),
      name: 'f',
      size: 280,
      mode: 0o644,
      mtime: 0,
      created: Date.now(),
      replicas: 2,
      chunkSize: 7,
      chunks,
      manifest: { holders: gone.map(p => p.toString()) }
    }
    await catalog.put(entry)

    let inFlight = 0
    let peak = 0
    let placed = 0
    const forgotten: string[] = []
    const repairer = new Repairer({
      peerId: self,
      peerIdFromString,
      catalog,
      peers: { get: () => undefined } as unknown as BackpackPeers,
      // the two holders vanished: every check fails
      renew: async () => { throw new Error('unreachable') },
      fetch: async () => new Uint8Array(7),
      placement: {
        place: async (_cid, _bytes, count) => {
          inFlight++
          peak = Math.max(peak, inFlight)
          await delay(5)
          inFlight--
          placed++
          return fresh.slice(0, count).map(p => p.toString())
        }
      },
      forget: async (holder) => { forgotten.push(holder) }
    }, { intervalMs: 3_600_000, graceMs: 60_000, maxConcurrent: 3 })

    const [result] = await repairer.verify()
    assert.equal(placed, 41, 'every chunk and the manifest were copied')
    assert.equal(peak, 3, 'no more than maxConcurrent copies at once')
    assert.equal(repairer.peakConcurrent, 3)
    assert.deepEqual(result.replicas, { desired: 2, actual: 2 })
    assert.equal(result.repaired, 41)
    // the vanished holders will be told to drop their surplus copies if they return
    assert.equal(forgotten.length, 41 * 2)
    const updated = await catalog.get(entry.id)
    assert.deepEqual(updated?.chunks[0].holders, fresh.slice(0, 2).map(p => p.toString()))
  })

  it('waits out the grace period in its background pass, but not in verify', async () => {
    const self = await newPeer()
    const holder = await newPeer()
    const catalog = new Catalog({ datastore: new MemoryDatastore() })
    const cid = cidOf(new Uint8Array([1])).toString()
    await catalog.put({
      id: cid, name: 'g', size: 1, mode: 0o644, mtime: 0, created: Date.now(), replicas: 1, chunkSize: 1,
      chunks: [], manifest: { holders: [holder.toString()] }
    })
    let placed = 0
    const repairer = new Repairer({
      peerId: self,
      peerIdFromString,
      catalog,
      peers: { get: () => undefined } as unknown as BackpackPeers,
      renew: async () => { throw new Error('unreachable') },
      fetch: async () => new Uint8Array(1),
      placement: { place: async () => { placed++; return [] } },
      forget: async () => {}
    }, { intervalMs: 20, graceMs: 60_000, maxConcurrent: 1 })
    repairer.start()
    await delay(200)
    await repairer.stop()
    assert.equal(placed, 0, 'a holder gone for less than the grace period is not replaced')
    const [result] = await repairer.verify()
    assert.equal(placed, 1, 'verify replaces it at once')
    assert.equal(result.replicas.actual, 0)
  })
})
