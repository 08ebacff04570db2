import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkClient } from '../../src/protocol/client.js'
import { signClaim } from '../../src/protocol/claims.js'
import { loadKeys } from '../../src/repo/index.js'
import { TestNetwork, sleep } from '../helpers/cli.js'
import { CHUNK, randomFile, sha256File } from '../helpers/files.js'
import { connect, startNode, stopAll, waitFor } from '../helpers/nodes.js'
import type { TestNode as Daemon } from '../helpers/cli.js'
import type { TestNode } from '../helpers/nodes.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const MiB = 1024 * 1024

/**
 * A holder that hands an owner's copies on (reclaiming its disk) tells the
 * owner with MOVED. Here two in-process holders play that part against a
 * `backpack start` owner, so what the owner does with each notice can be
 * seen on their stores.
 */
describe('an owner told that a holder handed its chunks on', { timeout: 120_000 }, () => {
  const net = new TestNetwork()
  const holders: TestNode[] = []
  const clients: ChunkClient[] = []
  let owner: Daemon
  let ownerId: PeerId

  before(async () => {
    // no repair pass of its own during the test: what the stores show is the MOVED handling
    owner = await net.addNode({ config: { replication: { repairIntervalMs: 3_600_000 } } })
    ownerId = peerIdFromString(owner.peerId)
    for (let i = 0; i < 2; i++) {
      const holder = await startNode({ serve: { limit: 64 * MiB } })
      holders.push(holder)
      await holder.libp2p.dial(multiaddr(owner.addrs[0]), { signal: AbortSignal.timeout(10_000) })
      clients.push(new ChunkClient({ dialer: holder.libp2p }))
    }
    await connect(holders[0], holders[1])
    // the owner learns through identify that both serve the chunk protocol
    await waitFor(async () => (await owner.json(['peers'])).length >= 2, 'the owner to see both holders')
  })

  after(async () => {
    await Promise.all(clients.map(async c => c.stop().catch(() => {})))
    await stopAll(holders)
    await net.close()
  })

  /** Hand `cid` from holders[from] to holders[to] for the owner with its signed claim, as a reclaiming holder does. */
  async function handOn (from: number, to: number, cid: CID, bytes: Uint8Array, claim?: Uint8Array): Promise<void> {
    await clients[from].put(holders[to].libp2p.peerId, cid, bytes, { owner: ownerId, claim })
    await clients[from].moved(ownerId, holders[to].libp2p.peerId, [cid])
  }

  it('has the new holder drop a copy the owner never recorded (nothing else would ever delete it)', async () => {
    const bytes = randomBytes(4096)
    const cid = cidOf(bytes)
    // signed with the owner's key, which never stored this chunk
    await handOn(0, 1, cid, bytes, await signClaim((await loadKeys(owner.repo)).privateKey, cid))
    const store = holders[1].store!
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [owner.peerId], 'the copy arrived for the owner')
    await waitFor(async () => !(await store.has(cid)), 'the new holder to be told to drop the stray copy')
  })

  it('records the new holder of a copy it had at the old one, which keeps it and serves the get', async () => {
    const file = join(await net.dir(), 'moved.bin')
    const hash = await randomFile(file, 3 * CHUNK)
    const put = await owner.json(['put', file, '--replicas', '1'])
    assert.deepEqual(put.replicas, { desired: 1, actual: 1 })
    // every chunk of the snapshot, wherever it went: hand each one on to the other holder
    const moved: Array<{ cid: CID, to: number }> = []
    for (const [from, holder] of holders.entries()) {
      for await (const { cid, owner: held } of holder.store!.claims.held()) {
        if (held === owner.peerId) moved.push({ cid, to: 1 - from })
      }
    }
    // with the claim the owner signed when it stored each chunk, kept by its holder
    for (const { cid, to } of moved) {
      const from = holders[1 - to].store!
      const claim = await from.claims.signature(cid, owner.peerId)
      assert.ok(claim != null, `the holder kept the owner's claim on ${cid}`)
      await handOn(1 - to, to, cid, await from.get(cid), claim)
    }
    assert.ok(moved.length >= 4, `the data chunks, a tree pack, the tree index and the snapshot were handed on (${moved.length})`)
    // the old copies go, as after a reclaim
    for (const [from, holder] of holders.entries()) {
      for (const { cid, to } of moved) if (to !== from) await holder.store!.release(cid, owner.peerId)
    }
    // time for a wrongly queued drop to reach the new holders
    await sleep(1500)
    for (const { cid, to } of moved) assert.equal(await holders[to].store!.has(cid), true, `${cid} kept at its new holder`)
    // only the new holders have the chunks now: the get works only if the catalog follows
    const out = join(await net.dir(), 'out.bin')
    const got = await owner.run(['get', `${put.id}:moved.bin`, '-o', out])
    assert.equal(got.code, 0, got.stderr)
    assert.equal(await sha256File(out), hash)
  })
})
