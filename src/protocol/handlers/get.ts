import { Response } from '../pb/chunk.js'
import { forbidden, reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

/** A held chunk is sent from disk in pieces of this size, never read whole. */
const SERVE_PIECE_BYTES = 256 * 1024

export interface GetHandlerComponents {
  store: ChunkStore
}

/** GET: a chunk's bytes, from disk, to one of its owners (others are refused: the bytes and the bandwidth are the owner's). */
export class GetHandler implements RequestHandler {
  constructor (private readonly components: GetHandlerComponents) {}

  async handle ({ cids, sender }: RequestContext): Promise<Answer> {
    const { store } = this.components
    if (cids.length !== 1) return reply(Response.Status.ERROR, { message: 'GET takes one CID' })
    if (!(await store.claims.isHeldFor(cids[0], sender))) {
      if (await store.has(cids[0])) return forbidden(`${cids[0]} is not held for ${sender}`)
      return reply(Response.Status.NOT_FOUND, { message: `chunk ${cids[0]} is not held here` })
    }
    try {
      return { ...reply(Response.Status.OK), body: await store.reader(cids[0], SERVE_PIECE_BYTES) }
    } catch (err: any) {
      if (err.name === 'NotFoundError') return reply(Response.Status.NOT_FOUND, { message: err.message })
      throw err
    }
  }
}
