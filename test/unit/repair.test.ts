import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { Catalog } from '../../src/catalog/catalog.js'
import { cidOf } from '../../src/chunking/index.js'
import { AUDIT_PIECE_BYTES, auditRoot, leaves, merklePath, pieceRange } from '../../src/chunking/merkle.js'
import { randomBytes } from 'node:crypto'
import type { CID } from 'multiformats/cid'
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
      forget: async (holder) => { forgotten.push(holder) },
      audit: async () => { throw new Error('unreachable') }
    }, { intervalMs: 3_600_000, graceMs: 60_000, maxConcurrent: 3, auditIntervalMs: 86_400_000 })

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
      forget: async () => {},
      audit: async () => { throw new Error('unreachable') }
    }, { intervalMs: 20, graceMs: 60_000, maxConcurrent: 1, auditIntervalMs: 86_400_000 })
    repairer.start()
    await delay(200)
    await repairer.stop()
    assert.equal(placed, 0, 'a holder gone for less than the grace period is not replaced')
    const [result] = await repairer.verify()
    assert.equal(placed, 1, 'verify replaces it at once')
    assert.equal(result.replicas.actual, 0)
  })

  describe('audits', () => {
    type Copy = 'good' | 'zeroed' | 'none' | 'other' | 'no answer'

    /** A holder's answer to AUDIT from the bytes it has (undefined: none) */
    function answer (bytes: Uint8Array | undefined, piece: number): { piece: Uint8Array, path: Uint8Array[] } {
      if (bytes == null) return { piece: new Uint8Array(0), path: [] }
      const { start, end } = pieceRange(bytes.byteLength, piece)
      return { piece: bytes.subarray(start, end), path: merklePath(leaves([bytes]), piece) }
    }

    async function setup (copies: Copy[], options: { proven?: number, fetchFails?: boolean, intervalMs?: number } = {}) {
      const self = await newPeer()
      const peers = await Promise.all(copies.map(async () => newPeer()))
      const spare = await newPeer()
      const good = randomBytes(5 * AUDIT_PIECE_BYTES + 100)
      const bytesOf = (copy: Copy): Uint8Array | undefined => copy === 'good' ? good : copy === 'zeroed' ? new Uint8Array(good.byteLength) : copy === 'other' ? randomBytes(good.byteLength) : undefined
      const cid = cidOf(good).toString()
      const catalog = new Catalog({ datastore: new MemoryDatastore() })
      const batch = catalog.batch()
      const holders = peers.map(String)
      const proven = options.proven != null ? Object.fromEntries(holders.map(h => [h, options.proven as number])) : undefined
      catalog.putPack(batch, { cid, kind: 'snapshot', size: good.byteLength, replicas: 2, holders, root: auditRoot([good]), proven })
      catalog.putSnapshot(batch, { id: cid, created: Date.now(), sources: ['/f'], tree: [], files: 1, dirs: 0, size: 1, replicas: 2, hostname: 'h', added: 0 }, [cid])
      await batch.commit()
      const byPeer = new Map(peers.map((p, i) => [p.toString(), copies[i]]))
      const forgotten: string[] = []
      const audited: number[] = []
      let placed = 0
      const repairer = new Repairer({
        peerId: self,
        peerIdFromString,
        catalog,
        peers: { get: () => undefined } as unknown as BackpackPeers,
        // every holder claims its copy, whatever it holds
        renew: async (_peer, cids) => cids.map(() => true),
        fetch: async () => { if (options.fetchFails === true) throw new Error('no good copy'); return good },
        placement: { place: async (_cid, _bytes, count) => { placed += count; return [spare.toString()].slice(0, count) } },
        forget: async (holder) => { forgotten.push(holder) },
        audit: async (peer, asks: Array<{ cid: CID, piece: number }>) => {
          const copy = byPeer.get(peer.toString()) as Copy
          if (copy === 'no answer') throw new Error('timed out')
          audited.push(...asks.map(a => a.piece))
          return asks.map(a => answer(bytesOf(copy), a.piece))
        }
      }, { intervalMs: options.intervalMs ?? 3_600_000, graceMs: 0, maxConcurrent: 2, auditIntervalMs: 60_000 })
      return { repairer, peers, spare, catalog, cid, forgotten, audited, placed: () => placed }
    }

    it('a copy that proves its piece counts; zeroed, missing or other bytes do not: replaced, and their holders told to drop them', async () => {
      const t = await setup(['good', 'zeroed', 'none', 'other'])
      const [result] = await t.repairer.verify()
      assert.equal(t.audited.length, 4, 'verify audits every copy claimed (the holder without one sends an empty proof)')
      assert.deepEqual(result.replicas, { desired: 2, actual: 2 })
      assert.equal(result.repaired, 1)
      assert.equal(t.placed(), 1, 'one live copy: one more made')
      assert.deepEqual(t.forgotten.sort(), t.peers.slice(1).map(String).sort(), 'the three that failed are told to drop their copies')
      const pack = await t.catalog.pack(t.cid)
      assert.deepEqual(pack?.holders, [t.peers[0].toString(), t.spare.toString()])
      assert.ok((pack?.proven?.[t.peers[0].toString()] ?? 0) > Date.now() - 10_000, 'the proof is recorded')
      assert.ok(result.proven != null && Date.now() - Date.parse(result.proven) < 10_000, 'and reported: the new copy counts as proven when made')
    })

    it('every copy bad and no good source: verify says 0 of 2, whatever the holders claim', async () => {
      const t = await setup(['zeroed', 'other'], { fetchFails: true })
      const [result] = await t.repairer.verify()
      assert.deepEqual(result.replicas, { desired: 2, actual: 0 })
      assert.equal(result.repaired, 0)
    })

    it('a holder that does not answer its audit counts until its last proof is overdue, and is never told to drop', async () => {
      const fresh = await setup(['no answer', 'no answer'], { proven: Date.now() })
      const [r1] = await fresh.repairer.verify()
      assert.deepEqual(r1.replicas, { desired: 2, actual: 2 }, 'proven a moment ago')
      assert.ok(r1.proven != null && Date.now() - Date.parse(r1.proven) < 10_000, 'when they were last proven')
      assert.equal(fresh.placed(), 0)
      const stale = await setup(['no answer', 'no answer'], { proven: Date.now() - 120_000 })
      await stale.repairer.verify()
      assert.equal(stale.placed(), 2, 'overdue: no longer counted, so copied elsewhere')
      assert.deepEqual([...fresh.forgotten, ...stale.forgotten], [], 'no answer is not a failed proof')
    })

    it('the background pass audits only copies whose proof is due', async () => {
      const recent = await setup(['good', 'good'], { proven: Date.now(), intervalMs: 10 })
      const old = await setup(['good', 'good'], { proven: Date.now() - 120_000, intervalMs: 10 })
      recent.repairer.start()
      old.repairer.start()
      await delay(300)
      await recent.repairer.stop()
      await old.repairer.stop()
      assert.equal(recent.audited.length, 0, 'proven within the interval: not audited again')
      assert.ok(old.audited.length >= 2, 'overdue: audited')
      const pack = await old.catalog.pack(old.cid)
      assert.ok(Object.values(pack?.proven ?? {}).every(t => t > Date.now() - 10_000), 'and proven now')
    })
  })
})
