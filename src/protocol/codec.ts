import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError, TooLargeError } from '../errors.js'
import { Request, Response } from './pb/chunk.js'
import type { AbortOptions, MessageStream } from '@libp2p/interface'
import type { ByteStream } from '@libp2p/utils'

// Protobuf fields may come in any order, so a message is its protons
// encoding without the bytes field, followed by that field written here: the
// chunk's bytes are then sent as they are, not copied into a new buffer.
const REQUEST_DATA_TAG = (3 << 3) | 2
const RESPONSE_DATA_TAG = (2 << 3) | 2

/** A streamed data field is handed on in pieces of this size (the last one smaller). */
const PIECE_BYTES = 256 * 1024
/** A varint longer than this is not a length this protocol uses. */
const MAX_VARINT_BYTES = 10

function varint (value: number): Uint8Array {
  const out: number[] = []
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return Uint8Array.from(out)
}

function withData (head: Uint8Array, tag: number, data: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  const list = new Uint8ArrayList(head)
  if (data.byteLength > 0) list.append(Uint8Array.of(tag), varint(data.byteLength), data)
  return list
}

const EMPTY = new Uint8Array(0)

/** `data` when given goes in place of `request.data` (as several buffers, not joined). */
export function encodeRequest (request: Request, data: Uint8Array | Uint8ArrayList = request.data): Uint8ArrayList {
  return withData(Request.encode({ ...request, data: EMPTY }), REQUEST_DATA_TAG, data)
}

export function encodeResponse (response: Response): Uint8ArrayList {
  return withData(Response.encode({ ...response, data: EMPTY }), RESPONSE_DATA_TAG, response.data)
}

/**
 * The start of a response whose data field (`dataLength` bytes) follows
 * separately: its length prefix, its other fields and the data field's
 * tag and length. Sending this and then the data is what `encodeResponse`
 * with the data in it, length-prefixed, would send.
 */
export function encodeResponseHead (response: Response, dataLength: number): Uint8ArrayList {
  const list = new Uint8ArrayList(Response.encode({ ...response, data: EMPTY }))
  if (dataLength > 0) list.append(Uint8Array.of(RESPONSE_DATA_TAG), varint(dataLength))
  list.prepend(varint(list.byteLength + dataLength))
  return list
}

/** Write one message with its varint length in front. */
export async function writeMessage (bytes: ByteStream<MessageStream>, message: Uint8ArrayList, options?: AbortOptions): Promise<void> {
  message.prepend(varint(message.byteLength))
  await bytes.write(message, options)
}

/**
 * Read a varint a byte at a time: its value and its bytes. `limit` is how
 * many bytes it may take at most (what is left of the message); past that,
 * `tooLong` is thrown.
 */
async function readVarint (bytes: ByteStream<MessageStream>, limit: number, options?: AbortOptions, tooLong = (): Error => new ProtocolError('malformed varint')): Promise<{ value: number, raw: Uint8Array }> {
  const raw: number[] = []
  let value = 0
  for (let shift = 1; ; shift *= 128) {
    if (raw.length >= Math.min(limit, MAX_VARINT_BYTES)) throw tooLong()
    const byte = (await bytes.read({ ...options, bytes: 1 })).get(0)
    raw.push(byte)
    value += (byte & 0x7f) * shift
    if (byte < 0x80) break
  }
  if (!Number.isSafeInteger(value)) throw new ProtocolError('malformed varint')
  return { value, raw: Uint8Array.from(raw) }
}

/** Read one length-prefixed message; its length must be at most `max`. */
export async function readMessage (bytes: ByteStream<MessageStream>, max: number, options?: AbortOptions): Promise<Uint8ArrayList> {
  const length = await readLength(bytes, max, options)
  return length === 0 ? new Uint8ArrayList() : bytes.read({ ...options, bytes: length })
}

/**
 * A message's length: TooLargeError past `max`, or written in more bytes
 * than `max` needs (as `lpStream`'s maxDataLength refuses both).
 */
async function readLength (bytes: ByteStream<MessageStream>, max: number, options?: AbortOptions): Promise<number> {
  const { value } = await readVarint(bytes, varint(max).byteLength, options, () => new TooLargeError(`a message length longer than ${max} needs`))
  if (value > max) throw new TooLargeError(`message of ${value} bytes is larger than ${max}`)
  return value
}

/** Where a message's data field goes as it arrives. */
export interface DataSink {
  /**
   * Called once, with the field's length and the message's fields read so
   * far (encoded), before its first piece; the first piece is read once
   * this resolves.
   */
  start: (length: number, head: Uint8ArrayList) => void | Promise<void>
  /**
   * The next piece of the field (as the buffers it arrived in, not joined);
   * the next is read once this resolves.
   */
  piece: (bytes: Uint8ArrayList) => void | Promise<void>
}

/**
 * Read one response whose data field is handed to `sink` piece by piece as
 * it arrives, instead of being held whole: a chunk's bytes are then only
 * alive for as long as their piece is handled. The other fields are decoded
 * as usual; the returned response has no data.
 */
export async function readResponseInto (bytes: ByteStream<MessageStream>, max: number, sink: DataSink, options?: AbortOptions): Promise<Response> {
  return Response.decode(await readMessageInto(bytes, max, RESPONSE_DATA_TAG, sink, options))
}

/**
 * Read one request whose data field (a chunk being stored) is handed to
 * `sink` piece by piece as it arrives. The request's other fields are
 * returned encoded, to be decoded (and refused when malformed) by the caller.
 */
export async function readRequestInto (bytes: ByteStream<MessageStream>, max: number, sink: DataSink, options?: AbortOptions): Promise<Uint8ArrayList> {
  return readMessageInto(bytes, max, REQUEST_DATA_TAG, sink, options)
}

/**
 * Read one length-prefixed message field by field: the field tagged
 * `dataTag` goes to `sink` in pieces, the others are returned as the
 * message's encoding without it.
 */
async function readMessageInto (bytes: ByteStream<MessageStream>, max: number, dataTag: number, sink: DataSink, options?: AbortOptions): Promise<Uint8ArrayList> {
  let remaining = await readLength(bytes, max, options)
  const head = new Uint8ArrayList()
  let sawData = false
  const take = async (length: number): Promise<Uint8ArrayList> => {
    if (length > remaining) throw new ProtocolError('a field runs past the end of its message')
    remaining -= length
    return length === 0 ? new Uint8ArrayList() : bytes.read({ ...options, bytes: length })
  }
  const varintIn = async (): Promise<{ value: number, raw: Uint8Array }> => {
    const read = await readVarint(bytes, remaining, options)
    remaining -= read.raw.byteLength
    return read
  }
  while (remaining > 0) {
    const tag = await varintIn()
    switch (tag.value & 7) {
      case 0: head.append(tag.raw, (await varintIn()).raw); break
      case 1: head.append(tag.raw, await take(8)); break
      case 5: head.append(tag.raw, await take(4)); break
      case 2: {
        const length = await varintIn()
        if (tag.value !== dataTag) {
          head.append(tag.raw, length.raw, await take(length.value))
          break
        }
        if (sawData) throw new ProtocolError('two data fields in one message')
        if (length.value > remaining) throw new ProtocolError('a field runs past the end of its message')
        sawData = true
        await sink.start(length.value, head)
        let left = length.value
        while (left > 0) {
          const piece = await take(Math.min(left, PIECE_BYTES))
          left -= piece.byteLength
          await sink.piece(piece)
        }
        break
      }
      default: throw new ProtocolError(`unknown protobuf wire type ${tag.value & 7}`)
    }
  }
  return head
}
