import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Catalog } from '../../src/catalog/catalog.js'
import { cidOf } from '../../src/chunking/index.js'
import { Repairer } from '../../src/replication/repair.js'
import { delay } from '../../src/util/concurrency.js'
import type { BackpackPeers } from '../../src/replication/peers.js'
import type { PeerId } from '@libp2p/interface'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** A snapshot `id` that needs `chunks` (its own chunk among them), each held by `holders`. */
async function record (catalog: Catalog, id: string, chunks: string[], replicas: number, holders: string[]): Promise<void> {
  const batch = catalog.batch()
  for (const cid of chunks) catalog.putPack(batch, { cid, kind: cid === id ? 'snapshot' : 'data', size: 7, replicas, holders })
  catalog.putSnapshot(batch, { id, created: Date.now(), sources: ['/f'], tree: [], files: 1, dirs: 0, size: 280, replicas, hostname: 'h', added: 0 }, chunks)
  await batch.commit()
}

describe('Repairer (unit, stub network)', () => {
  it('copies at most maxConcurrent chunks at once when every holder vanished', async () => {
    const self = await newPeer()
    const gone = await Promise.all([newPeer(), newPeer()])
    const fresh = await Promise.all([newPeer(), newPeer(), newPeer()])
    const catalog = new Catalog({ datastore: new MemoryDatastore() })
    const chunks = Array.from({ length: 41 }, (_, i) => cidOf(new TextEncoder().encode(`chunk ${i}`)).toString())
    const id = chunks[40]
    await record(catalog, id, chunks, 2, gone.map(p => p.toString()))

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
    const updated = await catalog.pack(chunks[0])
    assert.deepEqual(updated?.holders, fresh.slice(0, 2).map(p => p.toString()))
  })

  it('waits out the grace period in its background pass, but not in verify', async () => {
    const self = await newPeer()
    const holder = await newPeer()
    const catalog = new Catalog({ datastore: new MemoryDatastore() })
    const cid = cidOf(new Uint8Array([1])).toString()
    await record(catalog, cid, [cid], 1, [holder.toString()])
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
