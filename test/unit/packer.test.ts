import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { openBlob, sealBlob } from '../../src/backup/blobs.js'
import { Packer } from '../../src/backup/packer.js'
import { DataCipher } from '../../src/chunking/cipher.js'
import { cidOfParts } from '../../src/chunking/index.js'
import { delay } from '../../src/util/concurrency.js'
import type { FinishedPack } from '../../src/backup/packer.js'

const cipher = new DataCipher(randomBytes(32))

function blob (size: number): { plain: Uint8Array, sealed: ReturnType<typeof sealBlob> } {
  const plain = randomBytes(size)
  return { plain, sealed: sealBlob(cipher, cipher.blobId(plain), plain, 'off') }
}

describe('Packer', () => {
  it('packs small blobs together, gives a large one a pack of its own, and each opens from its pack', async () => {
    const packs: FinishedPack[] = []
    const packer = new Packer({ kind: 'data', targetBytes: 64 * 1024, inFlight: 2, upload: async pack => { packs.push(pack) } })
    const small = Array.from({ length: 20 }, () => blob(5000))
    const large = blob(20_000)
    const refs = []
    for (const b of small.slice(0, 10)) refs.push((await packer.add(b.sealed)).ref)
    const bigRef = await (await packer.add(large.sealed)).ref
    for (const b of small.slice(10)) refs.push((await packer.add(b.sealed)).ref)
    await packer.flush()
    const resolved = await Promise.all(refs)
    // 20 × ~5 KiB in packs of 64 KiB: two packs of small blobs, one for the large blob
    assert.equal(packs.length, 3)
    const alone = packs.find(p => p.blobs.length === 1)
    assert.ok(alone != null)
    assert.equal(CID.decode(bigRef.pack).toString(), alone.cid.toString())
    for (const pack of packs) {
      assert.equal(pack.cid.toString(), cidOfParts(pack.parts).toString(), 'a pack is named by the CID of its bytes')
      assert.equal(pack.size, pack.parts.reduce((n, p) => n + p.byteLength, 0))
    }
    const bytesOf = new Map(packs.map(p => [p.cid.toString(), Buffer.concat(p.parts)]))
    for (const [i, ref] of resolved.entries()) {
      const pack = bytesOf.get(CID.decode(ref.pack).toString())
      assert.ok(pack != null)
      assert.deepEqual(openBlob(cipher, pack, ref), small[i].plain)
    }
    assert.deepEqual(openBlob(cipher, bytesOf.get(alone.cid.toString()) as Uint8Array, bigRef), large.plain)
  })

  it('places at most inFlight packs at once, and fails the put with the first failure', async () => {
    let active = 0
    let peak = 0
    const packer = new Packer({
      kind: 'data',
      targetBytes: 4096,
      inFlight: 2,
      upload: async () => {
        active++
        peak = Math.max(peak, active)
        await delay(10)
        active--
      }
    })
    for (let i = 0; i < 10; i++) await packer.add(blob(2000).sealed)
    await packer.flush()
    assert.equal(peak, 2)

    const failing = new Packer({ kind: 'data', targetBytes: 4096, inFlight: 1, upload: async () => { throw new Error('no peer') } })
    await failing.add(blob(3000).sealed)
    await assert.rejects(failing.flush(), /no peer/)
  })
})
