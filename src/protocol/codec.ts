import { Uint8ArrayList } from 'uint8arraylist'
import { Request, Response } from './pb/chunk.js'
import type { ChunkBytes } from '../chunking/index.js'

// Protobuf fields may come in any order, so a message is its protons
// encoding without the bytes field, followed by that field written here: the
// chunk's bytes are then sent as they are, not copied into a new buffer.
// Decoding does the reverse: the bytes field is cut out of the received
// frames as a list of views, and only the other fields are joined and
// decoded, so a received chunk is never copied into one buffer either.
const REQUEST_DATA_FIELD = 3
const RESPONSE_DATA_FIELD = 2
const LENGTH_DELIMITED = 2

export type { ChunkBytes }

export type IncomingRequest = Omit<Request, 'data'> & { data: Uint8ArrayList }
export type IncomingResponse = Omit<Response, 'data'> & { data: Uint8ArrayList }
export type OutgoingRequest = Omit<Request, 'data'> & { data: ChunkBytes }
export type OutgoingResponse = Omit<Response, 'data'> & { data: ChunkBytes }

function varint (value: number): Uint8Array {
  const out: number[] = []
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return Uint8Array.from(out)
}

function withData (head: Uint8Array, field: number, data: ChunkBytes): Uint8ArrayList {
  const list = new Uint8ArrayList(head)
  if (data.byteLength > 0) list.append(Uint8Array.of((field << 3) | LENGTH_DELIMITED), varint(data.byteLength), data)
  return list
}

const EMPTY = new Uint8Array(0)

export function encodeRequest (request: OutgoingRequest): Uint8ArrayList {
  return withData(Request.encode({ ...request, data: EMPTY }), REQUEST_DATA_FIELD, request.data)
}

export function encodeResponse (response: OutgoingResponse): Uint8ArrayList {
  return withData(Response.encode({ ...response, data: EMPTY }), RESPONSE_DATA_FIELD, response.data)
}

/** A varint at `pos` of `list`: its value and the position after it. */
function readVarint (list: Uint8ArrayList, pos: number): [number, number] {
  let value = 0
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= list.byteLength) throw new RangeError('message ends inside a varint')
    const byte = list.get(pos++)
    value += (byte & 0x7f) * 2 ** shift
    if (byte < 0x80) return [value, pos]
  }
  throw new RangeError('varint too long')
}

/**
 * Cut the length-delimited `field` out of a protobuf message: its payload
 * as views (the last occurrence wins, as protobuf says), and the other
 * fields joined, to be decoded as usual. Throws on a malformed message.
 */
export function splitField (bytes: Uint8Array | Uint8ArrayList, field: number): { rest: Uint8Array, data: Uint8ArrayList } {
  const list = bytes instanceof Uint8ArrayList ? bytes : new Uint8ArrayList(bytes)
  const rest = new Uint8ArrayList()
  let data = new Uint8ArrayList()
  let pos = 0
  while (pos < list.byteLength) {
    const start = pos
    const [tag, afterTag] = readVarint(list, pos)
    pos = afterTag
    const wireType = tag & 7
    if (wireType === 0) {
      pos = readVarint(list, pos)[1]
    } else if (wireType === 1 || wireType === 5) {
      pos += wireType === 1 ? 8 : 4
    } else if (wireType === LENGTH_DELIMITED) {
      const [length, afterLength] = readVarint(list, pos)
      pos = afterLength + length
      if (pos > list.byteLength) throw new RangeError('field runs past the end of the message')
      if (Math.floor(tag / 8) === field) {
        data = list.sublist(afterLength, pos)
        continue
      }
    } else {
      throw new RangeError(`unsupported wire type ${wireType}`)
    }
    if (pos > list.byteLength) throw new RangeError('field runs past the end of the message')
    rest.append(list.sublist(start, pos))
  }
  return { rest: rest.subarray(), data }
}

export function decodeRequest (bytes: Uint8Array | Uint8ArrayList): IncomingRequest {
  const { rest, data } = splitField(bytes, REQUEST_DATA_FIELD)
  return { ...Request.decode(rest), data }
}

export function decodeResponse (bytes: Uint8Array | Uint8ArrayList): IncomingResponse {
  const { rest, data } = splitField(bytes, RESPONSE_DATA_FIELD)
  return { ...Response.decode(rest), data }
}
