import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkClient } from '../../src/protocol/client.js'
import { BackpackPeers } from '../../src/replication/peers.js'
import { Placement, newSession } from '../../src/replication/placement.js'
import { startNode, stopAll, connect, waitFor } from '../helpers/nodes.js'
import type { TestNode } from '../helpers/nodes.js'
import type { ChunkStore } from '../../src/store/index.js'

const LIMIT = 1024 * 1024

describe('placement over 4 real nodes', { timeout: 120_000 }, () => {
  const nodes: TestNode[] = []
  let owner: TestNode
  let holders: TestNode[]
  let peers: BackpackPeers
  let client: ChunkClient
  let placement: Placement

  function storeOf (id: string): ChunkStore {
    const node = holders.find(h => h.libp2p.peerId.toString() === id)
    assert.ok(node?.store != null, `${id} is not one of the holders`)
    return node.store
  }

  before(async () => {
    owner = await startNode()
    nodes.push(owner)
    holders = []
    for (let i = 0; i < 3; i++) {
      const h = await startNode({ serve: { limit: LIMIT } })
      nodes.push(h)
      holders.push(h)
    }
    peers = new BackpackPeers({ libp2p: owner.libp2p })
    await peers.start()
    client = new ChunkClient({ dialer: owner.libp2p }, { timeoutMs: 10_000 })
    placement = new Placement({ peers, client })
    for (const h of holders) await connect(owner, h)
    await waitFor(() => peers.list().length === 3, 'the owner to see 3 backpack peers')
  })

  after(async () => {
    await client?.stop().catch(() => {})
    await peers?.stop().catch(() => {})
    await stopAll(nodes)
  })

  it('puts 3 copies on 3 distinct peers, closest first, and each holds the bytes for the owner', async () => {
    const bytes = randomBytes(10_000)
    const cid = cidOf(bytes)
    const placed = await placement.place(cid, bytes, 3, newSession())
    assert.equal(placed.length, 3)
    assert.equal(new Set(placed).size, 3)
    assert.ok(!placed.includes(owner.libp2p.peerId.toString()))
    assert.deepEqual([...placed].sort(), holders.map(h => h.libp2p.peerId.toString()).sort())
    for (const id of placed) {
      const store = storeOf(id)
      assert.ok(Buffer.from(await store.get(cid)).equals(bytes))
      assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [owner.libp2p.peerId.toString()])
    }
  })

  it('puts fewer copies on the closest peers when asked for fewer', async () => {
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    const placed = await placement.place(cid, bytes, 2, newSession())
    const ranked = peers.rank(cid).map(p => p.toString())
    assert.deepEqual([...placed].sort(), ranked.slice(0, 2).sort())
    assert.equal(await storeOf(ranked[2]).has(cid), false)
  })

  it('moves on past a peer with no space, and remembers it as full', async () => {
    const bytes = randomBytes(2000)
    const cid = cidOf(bytes)
    const ranked = peers.rank(cid).map(p => p.toString())
    const full = storeOf(ranked[0])
    full.setLimit(0)
    try {
      const session = newSession()
      const placed = await placement.place(cid, bytes, 2, session)
      assert.equal(placed.length, 2)
      assert.deepEqual([...placed].sort(), ranked.slice(1).sort())
      assert.equal(await full.has(cid), false)
      assert.ok(session.full.has(ranked[0]))
      // asked for 3 with only 2 that can take it: stores what it can
      const more = randomBytes(2000)
      const placedMore = await placement.place(cidOf(more), more, 3, session)
      assert.equal(placedMore.length, 2)
      assert.ok(!placedMore.includes(ranked[0]))
    } finally {
      full.setLimit(LIMIT)
    }
  })

  it('skips excluded peers', async () => {
    const bytes = randomBytes(500)
    const cid = cidOf(bytes)
    const excluded = holders[1].libp2p.peerId.toString()
    const placed = await placement.place(cid, bytes, 3, newSession(), { exclude: new Set([excluded]) })
    assert.equal(placed.length, 2)
    assert.ok(!placed.includes(excluded))
    assert.equal(await holders[1].store?.has(cid), false)
  })

  it('moves on past a peer that fails', async () => {
    const bytes = randomBytes(500)
    const cid = cidOf(bytes)
    const ranked = peers.rank(cid).map(p => p.toString())
    const broken = storeOf(ranked[0])
    const writer = broken.writer
    broken.writer = async () => { throw new Error('disk on fire') }
    try {
      const session = newSession()
      const placed = await placement.place(cid, bytes, 2, session)
      assert.deepEqual([...placed].sort(), ranked.slice(1).sort())
      assert.ok(session.failed.has(ranked[0]))
      assert.equal(await broken.has(cid), false)
    } finally {
      broken.writer = writer
    }
  })
})
