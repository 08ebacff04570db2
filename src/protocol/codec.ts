import { Uint8ArrayList } from 'uint8arraylist'
import { Request, Response } from './pb/chunk.js'

// Protobuf fields may come in any order, so a message is its protons
// encoding without the bytes field, followed by that field written here: the
// chunk's bytes are then sent as they are, not copied into a new buffer.
const REQUEST_DATA_TAG = (3 << 3) | 2
const RESPONSE_DATA_TAG = (2 << 3) | 2

function varint (value: number): Uint8Array {
  const out: number[] = []
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return Uint8Array.from(out)
}

function withData (head: Uint8Array, tag: number, data: Uint8Array): Uint8ArrayList {
  const list = new Uint8ArrayList(head)
  if (data.byteLength > 0) list.append(Uint8Array.of(tag), varint(data.byteLength), data)
  return list
}

const EMPTY = new Uint8Array(0)

export function encodeRequest (request: Request): Uint8ArrayList {
  return withData(Request.encode({ ...request, data: EMPTY }), REQUEST_DATA_TAG, request.data)
}

export function encodeResponse (response: Response): Uint8ArrayList {
  return withData(Response.encode({ ...response, data: EMPTY }), RESPONSE_DATA_TAG, response.data)
}
