import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { Uint8ArrayList } from 'uint8arraylist'
import { CryptoPool } from '../../src/chunking/crypto-pool.js'
import { getFile } from '../../src/backup/get.js'
import { NotFoundError } from '../../src/errors.js'
import type { BackupComponents } from '../../src/backup/index.js'
import type { CatalogEntry } from '../../src/backup/catalog.js'
import type { DataSink } from '../../src/protocol/codec.js'
import type { PeerId } from '@libp2p/interface'

const CHUNK = 100_000

/** How a fake holder spoils a chunk it serves. */
type Fault = 'truncated' | 'flipped' | 'tag' | 'longer' | 'missing' | 'swapped'

function spoil (sealed: Uint8Array, fault: Fault): Uint8Array {
  const bad = Uint8Array.from(sealed)
  if (fault === 'truncated') return bad.subarray(0, bad.byteLength - 1000)
  if (fault === 'longer') return Buffer.concat([bad, Uint8Array.of(1)])
  bad[fault === 'tag' ? bad.byteLength - 1 : Math.floor(bad.byteLength / 2)] ^= 1
  return bad
}

/**
 * Restores through getFile with holders faked at the protocol client:
 * each chunk's first holder serves a spoiled copy (`faults[i]`), in pieces
 * as a stream would, the second a good one. The CryptoPool is real.
 */
async function restore (workers: number, faults: Fault[]): Promise<{ plain: Buffer, restored: Buffer, leftovers: string[], asked: string[] }> {
  const secret = randomBytes(32)
  const crypto = new CryptoPool(secret, workers)
  const keep = setInterval(() => {}, 1000) // worker threads do not keep the process alive
  const dir = await mkdtemp(join(tmpdir(), 'backpack-get-'))
  try {
    const ids: PeerId[] = []
    for (let i = 0; i < 2; i++) ids.push(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
    const plain = randomBytes(CHUNK * faults.length - 123)
    const copies = new Map<string, Uint8Array[]>()
    const chunks: CatalogEntry['chunks'] = []
    const sealedChunks = []
    for (let i = 0; i < faults.length; i++) sealedChunks.push(await crypto.seal(Uint8Array.from(plain.subarray(i * CHUNK, (i + 1) * CHUNK))))
    for (let i = 0; i < faults.length; i++) {
      const piece = plain.subarray(i * CHUNK, (i + 1) * CHUNK)
      const sealed = sealedChunks[i].sealed.subarray()
      const cid = sealedChunks[i].cid
      // getFile asks chunk i's holders[i % 2] first (to spread the load): the spoiled copy
      const [bad, good] = ids.map(id => id.toString())
      const holders = i % 2 === 0 ? [bad, good] : [good, bad]
      // swapped: another chunk's good copy, of the same size; it opens, but is not this chunk
      const served = faults[i] === 'swapped' ? sealedChunks[i + 1].sealed.subarray() : spoil(sealed, faults[i])
      copies.set(`${bad}/${cid.toString()}`, faults[i] === 'missing' ? [] : [Uint8Array.from(served)])
      copies.set(`${good}/${cid.toString()}`, [Uint8Array.from(sealed)])
      chunks.push({ cid: cid.toString(), size: piece.byteLength, holders })
    }
    const asked: string[] = []
    const serve = (peer: PeerId, cid: { toString: () => string }): Uint8Array => {
      asked.push(`${peer.toString()}/${cid.toString()}`)
      const copy = copies.get(`${peer.toString()}/${cid.toString()}`)?.[0]
      if (copy == null) throw new NotFoundError('not held here')
      return copy
    }
    const client = {
      get: async (peer: PeerId, cid: any) => Uint8Array.from(serve(peer, cid)),
      getInto: async (peer: PeerId, cid: any, sink: DataSink) => {
        const copy = serve(peer, cid)
        await sink.start(copy.byteLength, new Uint8ArrayList())
        for (let at = 0; at < copy.byteLength; at += 30_000) {
          await sink.piece(new Uint8ArrayList(copy.subarray(at, at + 10_000), copy.subarray(at + 10_000, Math.min(at + 30_000, copy.byteLength))))
        }
      }
    }
    const components = {
      peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')),
      peerIdFromString,
      client,
      crypto,
      peers: { isConnected: () => true, get: (id: string) => ids.find(p => p.toString() === id) },
      groupLookup: { holders: async () => [], forget: () => {} },
      restores: { begin: async () => async () => {} }
    } as unknown as BackupComponents
    const entry: CatalogEntry = { id: 'b', name: 'f.bin', size: plain.byteLength, mode: 0o644, mtime: Date.now(), created: Date.now(), replicas: 2, chunkSize: CHUNK, chunks, manifest: { holders: [] } }
    const target = join(dir, 'out', 'f.bin')
    await getFile(components, { chunkSize: CHUNK, chunksInFlight: 3 }, entry, target, {})
    return { plain, restored: await readFile(target), leftovers: (await readdir(join(dir, 'out'))).filter(n => n !== 'f.bin'), asked }
  } finally {
    clearInterval(keep)
    await crypto.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

describe('restoring a file whose first copies are bad', () => {
  const faults: Fault[] = ['swapped', 'flipped', 'truncated', 'tag', 'longer', 'missing', 'flipped']

  it('writes each chunk as it arrives and overwrites a bad copy with the next holder\'s', async () => {
    const { plain, restored, leftovers, asked } = await restore(0, faults)
    assert.equal(asked.length, 2 * faults.length, 'every chunk asked its spoiled copy first, then the good one')
    assert.equal(restored.byteLength, plain.byteLength)
    assert.ok(restored.equals(plain))
    assert.deepEqual(leftovers, [])
  })

  it('does the same with crypto workers, which open whole chunks', async () => {
    const { plain, restored, asked } = await restore(1, faults)
    assert.equal(asked.length, 2 * faults.length)
    assert.ok(restored.equals(plain))
  })
})
