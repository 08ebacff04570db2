// A hostile holder for tests: a real libp2p node that speaks the chunk
// protocol and lies. It takes every PUT and keeps nothing, says it has every
// chunk it is asked about, renews every lease, and answers audits with
// random bytes in place of the piece; reads find nothing. It counts what
// it was asked, so a test can see what an owner made of it.
import { randomBytes } from 'node:crypto'
import { byteStream } from '@libp2p/utils'
import { encodeResponse, readMessage, writeMessage } from '../../src/protocol/codec.js'
import { CHUNK_PROTOCOL, MAX_MESSAGE_BYTES } from '../../src/protocol/constants.js'
import { reply } from '../../src/protocol/handlers/index.js'
import { Request, Response } from '../../src/protocol/pb/chunk.js'
import { AUDIT_PIECE_BYTES } from '../../src/chunking/merkle.js'
import type { BackpackLibp2p } from '../../src/node/index.js'

export interface Lies {
  puts: number
  audits: number
  deletes: number
}

/** Serve the chunk protocol on `libp2p` as a holder that keeps nothing and claims everything. */
export async function serveLies (libp2p: BackpackLibp2p): Promise<Lies> {
  const lies: Lies = { puts: 0, audits: 0, deletes: 0 }
  await libp2p.handle(CHUNK_PROTOCOL, async stream => {
    const bytes = byteStream(stream, { maxBufferSize: 2 * MAX_MESSAGE_BYTES })
    try {
      while (true) {
        const request = Request.decode(await readMessage(bytes, MAX_MESSAGE_BYTES))
        let response: Response
        switch (request.type) {
          case Request.Type.PUT: lies.puts++; response = reply(Response.Status.OK); break
          case Request.Type.HAS:
          case Request.Type.RENEW: response = reply(Response.Status.OK, { have: request.cids.map(() => true) }); break
          case Request.Type.AUDIT:
            lies.audits++
            response = reply(Response.Status.OK, { proofs: request.cids.map(() => ({ piece: randomBytes(AUDIT_PIECE_BYTES), path: [randomBytes(32)] })) })
            break
          case Request.Type.DELETE: lies.deletes++; response = reply(Response.Status.OK, { have: request.cids.map(() => true) }); break
          case Request.Type.SPACE: response = reply(Response.Status.OK, { free: 1n << 40n }); break
          case Request.Type.GET: response = reply(Response.Status.NOT_FOUND, { message: 'not held here' }); break
          default: response = reply(Response.Status.OK)
        }
        await writeMessage(bytes, encodeResponse(response))
      }
    } catch {
      stream.abort(new Error('done'))
    }
  }, { maxInboundStreams: 64 })
  return lies
}
