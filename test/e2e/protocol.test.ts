import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { pbStream, byteStream } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkClient } from '../../src/protocol/client.js'
import { signClaim } from '../../src/protocol/claims.js'
import { encodeRequest } from '../../src/protocol/codec.js'
import { CHUNK_PROTOCOL, MAX_CIDS_PER_REQUEST, MAX_MESSAGE_BYTES } from '../../src/protocol/constants.js'
import { Request, Response } from '../../src/protocol/pb/chunk.js'
import { startNode, stopAll, connect, waitFor } from '../helpers/nodes.js'
import type { TestNode } from '../helpers/nodes.js'
import type { ChunkStore } from '../../src/store/index.js'
import type { Stream } from '@libp2p/interface'

const LIMIT = 4 * 1024 * 1024

/**
 * Read the server's answer to a misbehaving request on a raw stream: its
 * status, or 'aborted' when the server dropped the stream without one.
 */
async function answerOf (stream: Stream): Promise<Response.Status | 'aborted'> {
  try {
    const response = await pbStream(stream).read(Response, { signal: AbortSignal.timeout(10_000) })
    return response.status
  } catch (err: any) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError') throw new Error('server neither answered nor dropped the stream')
    return 'aborted'
  }
}

describe('/backpack/chunk/1.0.0 between real nodes', { timeout: 120_000 }, () => {
  const nodes: TestNode[] = []
  let a: TestNode
  let b: TestNode
  let c: TestNode
  let store: ChunkStore
  const clients: ChunkClient[] = []

  /** A client on `node`, stopped by the `after` hook. */
  function clientOf (node: TestNode): ChunkClient {
    const client = new ChunkClient({ dialer: node.libp2p, privateKey: node.privateKey }, { timeoutMs: 10_000 })
    clients.push(client)
    return client
  }

  /** Node C, well-behaved, still gets the whole service from A. */
  async function stillServes (): Promise<void> {
    const client = clientOf(c)
    const bytes = randomBytes(1000)
    const cid = cidOf(bytes)
    await client.put(a.libp2p.peerId, cid, bytes)
    assert.ok(Buffer.from(await client.get(a.libp2p.peerId, cid)).equals(bytes))
    // on a new stream too
    assert.deepEqual(await clientOf(c).has(a.libp2p.peerId, [cid]), [true])
  }

  before(async () => {
    a = await startNode({ serve: { limit: LIMIT } })
    nodes.push(a)
    b = await startNode()
    nodes.push(b)
    c = await startNode()
    nodes.push(c)
    store = a.store as ChunkStore
    await connect(b, a)
    await connect(c, a)
  })

  after(async () => {
    for (const client of clients) await client.stop().catch(() => {})
    await stopAll(nodes)
  })

  it('puts, gets, checks, renews and reports space', async () => {
    const client = clientOf(b)
    const peer = a.libp2p.peerId
    const bytes = randomBytes(100_000)
    const cid = cidOf(bytes)
    const missing = cidOf(randomBytes(10))
    const freeBefore = await client.space(peer)
    assert.equal(freeBefore, store.free)
    await client.put(peer, cid, bytes)
    assert.ok(Buffer.from(await store.get(cid)).equals(bytes), 'stored on A')
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [b.libp2p.peerId.toString()])
    assert.ok(Buffer.from(await client.get(peer, cid)).equals(bytes))
    assert.deepEqual(await client.has(peer, [cid, missing]), [true, false])
    assert.deepEqual(await client.renew(peer, [cid, missing]), [true, false])
    assert.deepEqual(await clientOf(c).renew(peer, [cid]), [false], 'C holds no lease on B\'s chunk')
    assert.equal(await client.space(peer), freeBefore - 100_000)
    await assert.rejects(client.get(peer, missing), { name: 'NotFoundError' })
  })

  it('answers HAS for more CIDs than one request may carry, in batches', async () => {
    const cids = Array.from({ length: MAX_CIDS_PER_REQUEST + 5 }, () => cidOf(randomBytes(8)))
    const have = await clientOf(b).has(a.libp2p.peerId, cids)
    assert.equal(have.length, cids.length)
    assert.ok(have.every(h => !h))
  })

  it('refuses a chunk whose bytes do not match its CID with BAD_HASH and stores nothing', async () => {
    const client = clientOf(b)
    const cid = cidOf(randomBytes(1000))
    const used = store.used
    await assert.rejects(client.put(a.libp2p.peerId, cid, randomBytes(1000)), { name: 'BadHashError' })
    assert.equal(await store.has(cid), false)
    assert.deepEqual(await store.claims.owners(cid), [])
    assert.equal(store.used, used)
    const response = await client.request(a.libp2p.peerId, { type: Request.Type.PUT, cids: [cid.bytes], data: randomBytes(10) })
    assert.equal(response.status, Response.Status.BAD_HASH)
    await stillServes()
  })

  it('stores nothing of a PUT cut off in the middle of its chunk, and gives its space back', async () => {
    const bytes = randomBytes(1024 * 1024)
    const cid = cidOf(bytes)
    const free = store.free
    const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL)
    try {
      // the whole request, less its last 300 KiB: the chunk is being received
      const message = encodeRequest({ type: Request.Type.PUT, cids: [cid.bytes], data: new Uint8Array(0), pieces: [] }, bytes).subarray()
      const sent = message.subarray(0, message.byteLength - 300 * 1024)
      await byteStream(stream).write(Buffer.concat([varint.encode(message.byteLength), sent]))
      // room held, and a temporary file open, while the rest has not come
      await waitFor(async () => store.free < free && (await readdir(join(a.storeDir!, 'tmp'))).length === 1, 'the holder to write the chunk to a temporary file as it arrives')
    } finally {
      stream.abort(new Error('cut off'))
    }
    await waitFor(() => store.free === free, 'the reserved room to be given back')
    assert.deepEqual(await readdir(join(a.storeDir!, 'tmp')), [], 'no temporary file left')
    assert.equal(await store.has(cid), false)
    assert.deepEqual(await store.claims.owners(cid), [])
    await stillServes()
  })

  it('refuses a message longer than MAX_MESSAGE_BYTES and keeps serving', async () => {
    for (const length of [MAX_MESSAGE_BYTES + 1, 2 ** 40]) {
      const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL)
      try {
        await byteStream(stream).write(varint.encode(length))
        await byteStream(stream).write(randomBytes(1000)).catch(() => {})
        const answer = await answerOf(stream)
        assert.ok(answer === Response.Status.TOO_LARGE || answer === 'aborted', `length ${length}: answered ${answer}`)
      } finally {
        stream.abort(new Error('test done'))
      }
      await stillServes()
    }
  })

  it('refuses an oversized message sent in full (no buffering it all) and keeps serving', async () => {
    const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL)
    try {
      const length = MAX_MESSAGE_BYTES + 1
      const bytes = byteStream(stream)
      await bytes.write(varint.encode(length))
      // the rest of the message, while the server may already be dropping the stream
      const sent = (async () => {
        for (let at = 0; at < length; at += 256 * 1024) {
          await bytes.write(randomBytes(Math.min(256 * 1024, length - at)), { signal: AbortSignal.timeout(10_000) })
        }
      })().catch(() => {})
      const answer = await answerOf(stream)
      assert.ok(answer === Response.Status.TOO_LARGE || answer === 'aborted', `answered ${answer}`)
      await sent
    } finally {
      stream.abort(new Error('test done'))
    }
    await stillServes()
  })

  it('refuses a malformed protobuf and keeps serving', async () => {
    for (const garbage of [Uint8Array.of(0x0f, 0xff, 0xff), Buffer.alloc(64, 0xff), Uint8Array.of(0x12, 0x7f, 0x01)]) {
      const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL)
      try {
        await byteStream(stream).write(Buffer.concat([varint.encode(garbage.byteLength), garbage]))
        const answer = await answerOf(stream)
        assert.ok(answer === Response.Status.ERROR || answer === 'aborted', `answered ${answer}`)
      } finally {
        stream.abort(new Error('test done'))
      }
      await stillServes()
    }
  })

  it('answers ERROR to a well-formed request with a malformed CID, on a stream that stays usable', async () => {
    const client = clientOf(b)
    const bad = await client.request(a.libp2p.peerId, { type: Request.Type.GET, cids: [Uint8Array.of(1, 2, 3)] })
    assert.equal(bad.status, Response.Status.ERROR)
    const none = await client.request(a.libp2p.peerId, { type: Request.Type.GET, cids: [] })
    assert.equal(none.status, Response.Status.ERROR)
    assert.equal(await client.space(a.libp2p.peerId), store.free)
  })

  it('answers ERROR to an unknown request type, or drops the stream, and keeps serving', async () => {
    const stream = await b.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL)
    try {
      // field 1 (type), varint 42: no such Request.Type
      await byteStream(stream).write(Uint8Array.of(2, 0x08, 42))
      const answer = await answerOf(stream)
      assert.ok(answer === Response.Status.ERROR || answer === 'aborted', `answered ${answer}`)
    } finally {
      stream.abort(new Error('test done'))
    }
    await stillServes()
  })

  it('deletes, reads and audits a chunk only for its owner: a third peer is refused, and the chunk stays', async () => {
    const owner = clientOf(b)
    const stranger = clientOf(c)
    const bytes = randomBytes(5000)
    const cid = cidOf(bytes)
    await owner.put(a.libp2p.peerId, cid, bytes)
    await assert.rejects(stranger.delete(a.libp2p.peerId, [cid]), { name: 'NotOwnerError' })
    assert.equal(await store.has(cid), true)
    await assert.rejects(stranger.get(a.libp2p.peerId, cid), { name: 'NotOwnerError' })
    const [foreign] = await stranger.audit(a.libp2p.peerId, [{ cid, piece: 0 }])
    assert.equal(foreign.piece.byteLength, 0, 'no proof of another owner\'s chunk')
    const [own] = await owner.audit(a.libp2p.peerId, [{ cid, piece: 0 }])
    assert.equal(own.piece.byteLength, 5000)
    assert.ok(Buffer.from(await owner.get(a.libp2p.peerId, cid)).equals(bytes))
    assert.deepEqual(await owner.delete(a.libp2p.peerId, [cid]), [true])
    assert.equal(await store.has(cid), false)
    await assert.rejects(owner.get(a.libp2p.peerId, cid), { name: 'NotFoundError' })
  })

  it('lets a holder hand a chunk on for its owner with the claim the owner signed, and only that owner delete it', async () => {
    const bytes = randomBytes(2000)
    const cid = cidOf(bytes)
    // C claims to hand on B's chunk: without B's signature, or with its own, A refuses
    await assert.rejects(clientOf(c).put(a.libp2p.peerId, cid, bytes, { owner: b.libp2p.peerId }), { name: 'NotOwnerError' })
    await assert.rejects(clientOf(c).put(a.libp2p.peerId, cid, bytes, { owner: b.libp2p.peerId, claim: await signClaim(c.privateKey, cid) }), { name: 'NotOwnerError' })
    const other = cidOf(randomBytes(2000))
    await assert.rejects(clientOf(c).put(a.libp2p.peerId, cid, bytes, { owner: b.libp2p.peerId, claim: await signClaim(b.privateKey, other) }), { name: 'NotOwnerError' })
    assert.equal(await store.has(cid), false)
    assert.deepEqual(await store.claims.owners(cid), [])
    // with B's claim on this chunk, A stores it for B, and keeps the claim to hand it on itself
    const claim = await signClaim(b.privateKey, cid)
    await clientOf(c).put(a.libp2p.peerId, cid, bytes, { owner: b.libp2p.peerId, claim })
    assert.deepEqual((await store.claims.owners(cid)).map(o => o.owner), [b.libp2p.peerId.toString()])
    assert.ok(Buffer.from(await store.claims.signature(cid, b.libp2p.peerId.toString()) ?? []).equals(claim))
    await assert.rejects(clientOf(c).delete(a.libp2p.peerId, [cid]), { name: 'NotOwnerError' })
    assert.equal(await store.has(cid), true)
    assert.deepEqual(await clientOf(b).delete(a.libp2p.peerId, [cid]), [true])
    assert.equal(await store.has(cid), false)
  })

  it('refuses more than MAX_CIDS_PER_REQUEST CIDs with TOO_LARGE', async () => {
    const client = clientOf(b)
    const cids = Array.from({ length: MAX_CIDS_PER_REQUEST + 1 }, () => cidOf(randomBytes(8)).bytes)
    for (const type of [Request.Type.HAS, Request.Type.DELETE, Request.Type.RENEW]) {
      const response = await client.request(a.libp2p.peerId, { type, cids })
      assert.equal(response.status, Response.Status.TOO_LARGE, `type ${type}`)
    }
    const ok = await client.request(a.libp2p.peerId, { type: Request.Type.HAS, cids: cids.slice(0, MAX_CIDS_PER_REQUEST) })
    assert.equal(ok.status, Response.Status.OK)
    assert.equal(ok.have.length, MAX_CIDS_PER_REQUEST)
  })

  it('refuses a PUT over the storage limit with NO_SPACE and stores nothing', async () => {
    const client = clientOf(b)
    const limit = store.limit
    try {
      store.setLimit(store.used + 1000)
      const bytes = randomBytes(1001)
      const cid = cidOf(bytes)
      await assert.rejects(client.put(a.libp2p.peerId, cid, bytes), { name: 'NoSpaceError' })
      assert.equal(await store.has(cid), false)
      assert.deepEqual(await store.claims.owners(cid), [])
      const response = await client.request(a.libp2p.peerId, { type: Request.Type.PUT, cids: [cid.bytes], data: bytes })
      assert.equal(response.status, Response.Status.NO_SPACE)
      assert.equal(response.free, 1000n)
      const fits = randomBytes(1000)
      await client.put(a.libp2p.peerId, cidOf(fits), fits)
      assert.equal(await client.space(a.libp2p.peerId), 0)
    } finally {
      store.setLimit(limit)
    }
  })

  it('moves a chunk of the largest allowed size', async () => {
    const client = clientOf(b)
    const bytes = randomBytes(MAX_MESSAGE_BYTES - 8192)
    const cid = cidOf(bytes)
    const limit = store.limit
    try {
      store.setLimit(store.used + bytes.byteLength)
      await client.put(a.libp2p.peerId, cid, bytes)
      assert.ok(Buffer.from(await client.get(a.libp2p.peerId, cid)).equals(bytes))
      assert.deepEqual(await client.delete(a.libp2p.peerId, [cid]), [true])
    } finally {
      store.setLimit(limit)
    }
  })

  it('stops serving open streams when the handler stops, and serves again after start', async () => {
    const client = clientOf(b)
    const bytes = randomBytes(100)
    const cid = cidOf(bytes)
    await client.put(a.libp2p.peerId, cid, bytes) // leaves an idle pooled stream to A
    const handler = a.handler
    assert.ok(handler != null)
    await handler.stop()
    try {
      const other = randomBytes(100)
      await assert.rejects(client.put(a.libp2p.peerId, cidOf(other), other))
      assert.equal(await store.has(cidOf(other)), false)
    } finally {
      await handler.start()
    }
    assert.ok(Buffer.from(await client.get(a.libp2p.peerId, cid)).equals(bytes))
  })
})

describe('holder groups and manifests over /backpack/chunk/1.0.0', { timeout: 60_000 }, () => {
  const nodes: TestNode[] = []
  const heard: Array<{ owner: string, group: Uint8Array, sender: string }> = []
  let holder: TestNode
  let owner: TestNode
  let client: ChunkClient

  before(async () => {
    holder = await startNode({ serve: { limit: LIMIT, onGroup: async (owner, group, sender) => { heard.push({ owner, group, sender }) } } })
    nodes.push(holder)
    owner = await startNode()
    nodes.push(owner)
    await connect(owner, holder)
    client = new ChunkClient({ dialer: owner.libp2p }, { timeoutMs: 10_000 })
  })

  after(async () => {
    await client.stop()
    await stopAll(nodes)
  })

  it('a holder hears the group sent with a stored chunk, for its owner', async () => {
    const bytes = randomBytes(1000)
    const group = randomBytes(32)
    await client.put(holder.libp2p.peerId, cidOf(bytes), bytes, { group })
    assert.equal(heard.length, 1)
    assert.equal(heard[0].owner, owner.libp2p.peerId.toString())
    assert.equal(heard[0].sender, owner.libp2p.peerId.toString())
    assert.deepEqual(heard[0].group, new Uint8Array(group))
  })

  it('refuses a group of the wrong size with ERROR and stores nothing', async () => {
    heard.length = 0
    for (const group of [randomBytes(3), randomBytes(65)]) {
      const bytes = randomBytes(1000)
      await assert.rejects(client.put(holder.libp2p.peerId, cidOf(bytes), bytes, { group }), /group/)
      assert.equal(await holder.store?.has(cidOf(bytes)), false)
    }
    assert.equal(heard.length, 0)
  })

  it('lists the manifests held for the asking owner only, until they are deleted', async () => {
    const manifest = randomBytes(500)
    const chunk = randomBytes(500)
    await client.put(holder.libp2p.peerId, cidOf(manifest), manifest, { manifest: true })
    await client.put(holder.libp2p.peerId, cidOf(chunk), chunk)
    assert.deepEqual((await client.manifests(holder.libp2p.peerId)).map(String), [cidOf(manifest).toString()])

    // another peer has none there
    const stranger = await startNode()
    nodes.push(stranger)
    await connect(stranger, holder)
    const strangers = new ChunkClient({ dialer: stranger.libp2p }, { timeoutMs: 10_000 })
    try {
      assert.deepEqual(await strangers.manifests(holder.libp2p.peerId), [])
    } finally {
      await strangers.stop()
    }

    await client.delete(holder.libp2p.peerId, [cidOf(manifest)])
    assert.deepEqual(await client.manifests(holder.libp2p.peerId), [])
  })
})

describe('fair shares of a holder\'s disk between real nodes', { timeout: 120_000 }, () => {
  const LIMIT = 400_000
  const STALL_MS = 600
  const nodes: TestNode[] = []
  const clients: ChunkClient[] = []
  let holder: TestNode
  let flooder: TestNode
  let honest: TestNode
  let store: ChunkStore

  function clientOf (node: TestNode): ChunkClient {
    const client = new ChunkClient({ dialer: node.libp2p, privateKey: node.privateKey }, { timeoutMs: 10_000 })
    clients.push(client)
    return client
  }

  before(async () => {
    holder = await startNode({ serve: { limit: LIMIT, peerShare: 0.5, stallTimeoutMs: STALL_MS } })
    flooder = await startNode()
    honest = await startNode()
    nodes.push(holder, flooder, honest)
    store = holder.store as ChunkStore
    await connect(flooder, holder)
    await connect(honest, holder)
  })

  after(async () => {
    for (const client of clients) await client.stop().catch(() => {})
    await stopAll(nodes)
  })

  it('a peer that floods a holder with PUTs gets its share of the limit and no more; an honest owner still stores', async () => {
    const flood = clientOf(flooder)
    let stored = 0
    let refused = 0
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 20; i++) {
        const bytes = randomBytes(10_000)
        try {
          await flood.put(holder.libp2p.peerId, cidOf(bytes), bytes)
          stored += bytes.byteLength
        } catch (err: any) {
          assert.equal(err.name, 'NoSpaceError')
          refused++
        }
      }
    }))
    assert.equal(stored, LIMIT / 2, 'the flooder fills exactly its share')
    assert.ok(refused > 0)
    assert.equal(store.claims.usedBy(flooder.libp2p.peerId.toString()), LIMIT / 2)
    assert.equal(await flood.space(holder.libp2p.peerId), 0, 'SPACE says what the flooder may still store: nothing')
    // the other half is there for an honest owner
    const owner = clientOf(honest)
    assert.equal(await owner.space(holder.libp2p.peerId), LIMIT / 2)
    for (let i = 0; i < 5; i++) {
      const bytes = randomBytes(30_000)
      await owner.put(holder.libp2p.peerId, cidOf(bytes), bytes)
    }
    assert.deepEqual(store.claims.users().map(u => [u.peer, u.bytes]), [[flooder.libp2p.peerId.toString(), LIMIT / 2], [honest.libp2p.peerId.toString(), 150_000]])
  })

  it('half-PUTs hold the space they announced only until they stall, then it is free again', async () => {
    const free = store.free
    // the honest owner may still store 50,000 bytes here
    const announced = 15_000
    const streams: Stream[] = []
    try {
      for (let i = 0; i < 3; i++) {
        const bytes = randomBytes(announced)
        const stream = await honest.libp2p.dialProtocol(holder.libp2p.peerId, CHUNK_PROTOCOL)
        streams.push(stream)
        const message = encodeRequest({ type: Request.Type.PUT, cids: [cidOf(bytes).bytes], data: new Uint8Array(0), pieces: [] }, bytes).subarray()
        // the head and half of the chunk, then nothing
        await byteStream(stream).write(Buffer.concat([varint.encode(message.byteLength), message.subarray(0, message.byteLength - announced / 2)]))
      }
      await waitFor(() => store.free === free - 3 * announced, 'the holder to reserve what the half-PUTs announced')
      const started = Date.now()
      await waitFor(() => store.free === free, 'the stalled half-PUTs to give their space back')
      const waited = Date.now() - started
      assert.ok(waited < STALL_MS + 2000, `freed ${waited} ms after it was seen reserved (stall timeout ${STALL_MS} ms)`)
      assert.deepEqual(await readdir(join(holder.storeDir!, 'tmp')), [], 'no temporary file left')
      // the stalled streams were dropped: an answer never comes
      for (const stream of streams) assert.equal(await answerOf(stream), 'aborted')
    } finally {
      for (const stream of streams) stream.abort(new Error('test done'))
    }
  })

  it('a PUT naming another owner, without that owner\'s signed claim, is refused and takes none of that owner\'s share', async () => {
    const bytes = randomBytes(10_000)
    const cid = cidOf(bytes)
    await assert.rejects(clientOf(flooder).put(holder.libp2p.peerId, cid, bytes, { owner: honest.libp2p.peerId }), { name: 'NotOwnerError' })
    assert.equal(await store.has(cid), false)
    assert.equal(store.claims.usedBy(honest.libp2p.peerId.toString()), 150_000)
  })
})

describe('rate limits per peer between real nodes', { timeout: 60_000 }, () => {
  const nodes: TestNode[] = []
  const clients: ChunkClient[] = []
  let holder: TestNode
  let flooder: TestNode
  let honest: TestNode

  before(async () => {
    holder = await startNode({ serve: { limit: LIMIT, requestsPerSecond: 20, cidsPerSecond: 2000 } })
    flooder = await startNode()
    honest = await startNode()
    nodes.push(holder, flooder, honest)
    await connect(flooder, holder)
    await connect(honest, holder)
  })

  after(async () => {
    for (const client of clients) await client.stop().catch(() => {})
    await stopAll(nodes)
  })

  function clientOf (node: TestNode): ChunkClient {
    const client = new ChunkClient({ dialer: node.libp2p, privateKey: node.privateKey }, { timeoutMs: 10_000 })
    clients.push(client)
    return client
  }

  it('a peer past its rate is answered BUSY while other peers are served; it is served again a second later', async () => {
    const flood = clientOf(flooder)
    const cid = cidOf(randomBytes(10))
    const outcomes = await Promise.allSettled(Array.from({ length: 60 }, async () => flood.has(holder.libp2p.peerId, [cid])))
    const busy = outcomes.filter(o => o.status === 'rejected')
    assert.ok(busy.length >= 35, `${busy.length} of 60 answered BUSY (20 a second allowed)`)
    for (const o of busy) assert.match(String((o as PromiseRejectedResult).reason.message), /busy: too many requests/)
    // another peer is not slowed by the flooder
    const owner = clientOf(honest)
    for (let i = 0; i < 10; i++) assert.deepEqual(await owner.has(holder.libp2p.peerId, [cid]), [false])
    // many CIDs count too: 2,000 a second
    await new Promise(resolve => setTimeout(resolve, 1100))
    const many = Array.from({ length: 1024 }, () => cidOf(randomBytes(8)))
    const big = await Promise.allSettled([0, 1, 2].map(async () => flood.has(holder.libp2p.peerId, many)))
    assert.equal(big.filter(o => o.status === 'rejected').length, 2, 'past 2,000 CIDs in a second: BUSY')
    await new Promise(resolve => setTimeout(resolve, 1100))
    assert.deepEqual(await flood.has(holder.libp2p.peerId, [cid]), [false], 'served again after the second')
    // a PUT past the rate is not stored
    const store = holder.store as ChunkStore
    const puts = await Promise.allSettled(Array.from({ length: 40 }, async () => {
      const bytes = randomBytes(1000)
      await flood.put(holder.libp2p.peerId, cidOf(bytes), bytes)
      return cidOf(bytes)
    }))
    const stored = puts.filter(o => o.status === 'fulfilled').length
    assert.ok(stored <= 20 && stored > 0, `${stored} of 40 PUTs stored`)
    assert.equal(store.claims.usedBy(flooder.libp2p.peerId.toString()), stored * 1000)
  })
})
