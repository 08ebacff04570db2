import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { byteStream, streamPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeRequest, encodeResponse, readMessage, readRequestInto, readResponseInto, writeMessage } from '../../src/protocol/codec.js'
import { Request, Response } from '../../src/protocol/pb/chunk.js'
import type { DataSink } from '../../src/protocol/codec.js'

/** A sink that keeps what it is handed, and how. */
function collector (): DataSink & { length?: number, head?: Uint8Array, pieces: Uint8ArrayList[], bytes: () => Buffer } {
  const pieces: Uint8ArrayList[] = []
  const sink = {
    length: undefined as number | undefined,
    pieces,
    head: undefined as Uint8Array | undefined,
    start: (length: number, head: Uint8ArrayList) => { sink.length = length; sink.head = head.subarray() },
    piece: (list: Uint8ArrayList) => { pieces.push(list) },
    bytes: () => Buffer.concat(pieces.map(p => p.subarray()))
  }
  return sink
}

/** Raw bytes written on one side of a stream pair, read on the other. */
async function pair (): Promise<{ send: (bytes: Uint8Array) => Promise<void>, read: ReturnType<typeof byteStream> }> {
  const [a, b] = await streamPair()
  const out = byteStream(a)
  return { send: async bytes => { await out.write(bytes) }, read: byteStream(b) }
}

function framed (message: Uint8Array | Uint8ArrayList): Uint8Array {
  const list = new Uint8ArrayList(message)
  const prefix: number[] = []
  let n = list.byteLength
  while (n > 0x7f) { prefix.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  prefix.push(n)
  return Buffer.concat([Uint8Array.from(prefix), list.subarray()])
}

describe('streamed responses (readResponseInto)', () => {
  it('hands the data field on in pieces as it arrives, and decodes the other fields', async () => {
    const { send, read } = await pair()
    const data = randomBytes(700_000)
    await send(framed(encodeResponse({ status: Response.Status.OK, data, have: [true, false], message: 'hi', cids: [], proofs: [] })))
    const sink = collector()
    const response = await readResponseInto(read, 1 << 20, sink)
    assert.equal(response.message, 'hi')
    assert.deepEqual(response.have, [true, false])
    assert.equal(response.data.byteLength, 0, 'the data went to the sink only')
    assert.equal(sink.length, data.byteLength)
    assert.ok(sink.bytes().equals(data))
    assert.ok(sink.pieces.length >= 3, `${sink.pieces.length} pieces: not held whole`)
  })

  it('reads fields that come after the data field, and leaves the next message in the stream', async () => {
    const { send, read } = await pair()
    const data = randomBytes(1000)
    // data first, then status and message (protobuf allows any order)
    const after = Response.encode({ status: Response.Status.NOT_FOUND, data: new Uint8Array(0), have: [], message: 'later', cids: [], proofs: [] })
    const message = Buffer.concat([Uint8Array.of((2 << 3) | 2, 0xe8, 0x07), data, after])
    await send(Buffer.concat([framed(message), framed(Uint8Array.of(8, 4))]))
    const sink = collector()
    const response = await readResponseInto(read, 1 << 20, sink)
    assert.equal(response.status, Response.Status.NOT_FOUND)
    assert.equal(response.message, 'later')
    assert.ok(sink.bytes().equals(data))
    assert.equal(Response.decode(await readMessage(read, 100)).status, Response.Status.ERROR)
  })

  it('calls no sink for a response without data', async () => {
    const { send, read } = await pair()
    await send(framed(encodeResponse({ status: Response.Status.NOT_FOUND, data: new Uint8Array(0), have: [], message: 'no', cids: [], proofs: [] })))
    const sink = collector()
    const response = await readResponseInto(read, 1 << 20, sink)
    assert.equal(response.status, Response.Status.NOT_FOUND)
    assert.equal(sink.length, undefined)
  })

  it('refuses oversized responses with TooLargeError, malformed ones with ProtocolError', async () => {
    const oversized: Array<[string, Uint8Array]> = [
      ['longer than allowed', framed(encodeResponse({ status: Response.Status.OK, data: randomBytes(2000), have: [], message: '', cids: [], proofs: [] }))],
      // 3 written in three bytes: no length up to 1024 needs more than two
      ['a length in more bytes than needed', Uint8Array.of(0x83, 0x80, 0x00, 8, 4, 0)]
    ]
    for (const [what, bytes] of oversized) {
      const { send, read } = await pair()
      await send(bytes)
      await assert.rejects(readResponseInto(read, 1024, collector()), { name: 'TooLargeError' }, what)
    }
    const cases: Array<[string, Uint8Array]> = [
      ['a field past the end of its message', framed(Uint8Array.of((2 << 3) | 2, 50, 1, 2, 3))],
      ['two data fields', framed(Uint8Array.of((2 << 3) | 2, 1, 7, (2 << 3) | 2, 1, 8))],
      ['an unknown wire type', framed(Uint8Array.of((1 << 3) | 7, 1))],
      ['a varint that never ends', framed(Uint8Array.of(8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))]
    ]
    for (const [what, bytes] of cases) {
      const { send, read } = await pair()
      await send(bytes)
      await assert.rejects(readResponseInto(read, 1024, collector()), { name: 'ProtocolError' }, what)
    }
  })

  it('frames what writeMessage sends as readMessage reads it', async () => {
    const [a, b] = await streamPair()
    const body = randomBytes(300)
    await writeMessage(byteStream(a), new Uint8ArrayList(body))
    assert.ok(Buffer.from((await readMessage(byteStream(b), 1000)).subarray()).equals(body))
  })
})

describe('streamed requests (readRequestInto)', () => {
  it('hands a PUT\'s chunk on in pieces, with the fields before it, and returns the others', async () => {
    const { send, read } = await pair()
    const data = randomBytes(600_000)
    const cids = [randomBytes(36)]
    await send(framed(encodeRequest({ type: Request.Type.PUT, cids, data: new Uint8Array(0), manifest: true, pieces: [] }, data)))
    const sink = collector()
    const head = await readRequestInto(read, 1 << 20, sink)
    assert.ok(sink.head != null)
    assert.deepEqual(Request.decode(sink.head).cids.map(c => Buffer.from(c).toString('hex')), cids.map(c => c.toString('hex')), 'the CID is known before the data')
    assert.ok(sink.bytes().equals(data))
    assert.ok(sink.pieces.length >= 3, `${sink.pieces.length} pieces: not held whole`)
    const request = Request.decode(head)
    assert.equal(request.manifest, true)
    assert.equal(request.data.byteLength, 0, 'the data went to the sink only')
  })
})
