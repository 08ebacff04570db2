import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes, randomInt } from 'node:crypto'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/protocol/codec.js'
import { Request, Response } from '../../src/protocol/pb/chunk.js'

/** The bytes cut into frames of random sizes, as they come off a stream. */
function frames (bytes: Uint8Array, max = 70_000): Uint8ArrayList {
  const list = new Uint8ArrayList()
  for (let i = 0; i < bytes.byteLength;) {
    const n = Math.min(bytes.byteLength - i, randomInt(1, max))
    list.append(bytes.slice(i, i + n))
    i += n
  }
  return list
}

const request = (data: Uint8Array): Request => ({
  type: Request.Type.PUT,
  cids: [randomBytes(36)],
  data,
  owner: randomBytes(38),
  group: randomBytes(32),
  manifest: true
})

describe('chunk protocol codec', () => {
  it('decodes a request split over many frames, the chunk as views of them', () => {
    const sent = request(randomBytes(1024 * 1024 + 28))
    const wire = encodeRequest(sent).subarray()
    const got = decodeRequest(frames(wire))
    assert.ok(Buffer.from(got.data.subarray()).equals(sent.data))
    assert.ok([...got.data].length > 1, 'the chunk was joined into one buffer')
    assert.deepEqual({ ...got, data: undefined }, { ...Request.decode(wire), data: undefined })
  })

  it('decodes what protons encodes (fields in any order) as protons does', () => {
    const sent = request(randomBytes(5000))
    const wire = Request.encode(sent)
    const got = decodeRequest(frames(wire, 300))
    assert.ok(Buffer.from(got.data.subarray()).equals(sent.data))
    assert.deepEqual({ ...got, data: undefined }, { ...Request.decode(wire), data: undefined })
    const response: Response = { status: Response.Status.NO_SPACE, data: randomBytes(3000), have: [true, false], message: 'full', cids: [randomBytes(36)], free: 12345n }
    const responseWire = Response.encode(response)
    const r = decodeResponse(frames(responseWire, 100))
    assert.ok(Buffer.from(r.data.subarray()).equals(response.data))
    assert.deepEqual({ ...r, data: undefined }, { ...Response.decode(responseWire), data: undefined })
    assert.equal(r.free, 12345n)
    const e = decodeResponse(encodeResponse({ ...response, data: new Uint8Array(0) }))
    assert.equal(e.data.byteLength, 0)
  })

  it('takes the last of a repeated bytes field, as protobuf says', () => {
    const first = Request.encode({ type: Request.Type.PUT, cids: [], data: Uint8Array.of(1, 2, 3) })
    const second = Request.encode({ type: Request.Type.PUT, cids: [], data: Uint8Array.of(4, 5) })
    const got = decodeRequest(new Uint8ArrayList(first, second))
    assert.deepEqual([...got.data.subarray()], [4, 5])
  })

  it('refuses truncated and malformed messages with an error', () => {
    const wire = encodeRequest(request(randomBytes(1000))).subarray()
    for (const cut of [1, 10, 500, wire.byteLength - 1]) {
      assert.throws(() => decodeRequest(wire.subarray(0, cut)), RangeError, `cut at ${cut}`)
    }
    // wire types 3, 4 (groups), 6 and 7 do not exist here
    assert.throws(() => decodeRequest(Uint8Array.of((1 << 3) | 3)), /wire type/)
    // a varint that never ends
    assert.throws(() => decodeRequest(Uint8Array.of(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)), /varint/)
    // random bytes: an error or a message, never a hang
    for (let i = 0; i < 500; i++) {
      try { decodeRequest(randomBytes(randomInt(1, 200))) } catch {}
    }
  })
})
