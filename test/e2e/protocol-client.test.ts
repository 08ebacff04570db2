import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { pbStream } from '@libp2p/utils'
import { cidOf } from '../../src/chunking/index.js'
import { ChunkClient } from '../../src/protocol/client.js'
import { CHUNK_PROTOCOL } from '../../src/protocol/constants.js'
import { Request, Response } from '../../src/protocol/pb/chunk.js'
import { startNode, stopAll, connect } from '../helpers/nodes.js'
import type { TestNode } from '../helpers/nodes.js'

/** The client side against holders that misbehave: it must not trust them. */
describe('ChunkClient against a misbehaving holder', { timeout: 60_000 }, () => {
  const nodes: TestNode[] = []
  let liar: TestNode
  let silent: TestNode
  let owner: TestNode
  let client: ChunkClient
  let heardBySilent = 0

  before(async () => {
    liar = await startNode()
    nodes.push(liar)
    silent = await startNode()
    nodes.push(silent)
    owner = await startNode()
    nodes.push(owner)
    // answers every request OK, with bytes that match nothing and one `have` too many
    await liar.libp2p.handle(CHUNK_PROTOCOL, async (stream) => {
      const pb = pbStream(stream)
      try {
        while (true) {
          const request = await pb.read(Request)
          await pb.write({ status: Response.Status.OK, data: randomBytes(100), have: [true, ...request.cids.map(() => true)], message: '' }, Response)
        }
      } catch {
        stream.abort(new Error('done'))
      }
    })
    // reads requests and never answers
    await silent.libp2p.handle(CHUNK_PROTOCOL, async (stream) => {
      const pb = pbStream(stream)
      try {
        while (true) {
          await pb.read(Request)
          heardBySilent++
        }
      } catch {
        stream.abort(new Error('done'))
      }
    })
    await connect(owner, liar)
    await connect(owner, silent)
    client = new ChunkClient({ dialer: owner.libp2p }, { timeoutMs: 1000, maxStreamsPerPeer: 2 })
  })

  after(async () => {
    await client?.stop().catch(() => {})
    await stopAll(nodes)
  })

  it('refuses bytes that do not match the CID with BadHashError', async () => {
    const cid = cidOf(randomBytes(100))
    await assert.rejects(client.get(liar.libp2p.peerId, cid), { name: 'BadHashError' })
  })

  it('refuses a HAS answer of the wrong length with ProtocolError', async () => {
    await assert.rejects(client.has(liar.libp2p.peerId, [cidOf(randomBytes(1))]), { name: 'ProtocolError' })
    await assert.rejects(client.renew(liar.libp2p.peerId, [cidOf(randomBytes(1)), cidOf(randomBytes(1))]), { name: 'ProtocolError' })
  })

  it('times out on a holder that never answers, and frees its streams for the next request', async () => {
    const cid = cidOf(randomBytes(100))
    const heard = heardBySilent
    // more requests than the client keeps streams per peer (2): a stream
    // leaked by a timeout would leave later requests waiting, never sent
    for (let i = 0; i < 4; i++) {
      const started = Date.now()
      await assert.rejects(client.get(silent.libp2p.peerId, cid))
      assert.ok(Date.now() - started < 5000, `request ${i} took ${Date.now() - started} ms`)
    }
    assert.equal(heardBySilent - heard, 4)
  })

  it('stops at the caller\'s signal', async () => {
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('user cancelled')), 50)
    const started = Date.now()
    await assert.rejects(client.get(silent.libp2p.peerId, cidOf(randomBytes(10)), { signal: controller.signal }))
    assert.ok(Date.now() - started < 900)
  })
})
