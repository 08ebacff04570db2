import { Response } from '../pb/chunk.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export interface HasHandlerComponents {
  store: ChunkStore
}

/**
 * HAS: which of the chunks are held here, for anyone: a holder handing a
 * chunk on asks where copies are already (a CID, the hash of sealed bytes,
 * cannot be guessed; the bytes are served to their owner only).
 */
export class HasHandler implements RequestHandler {
  constructor (private readonly components: HasHandlerComponents) {}

  async handle ({ cids }: RequestContext): Promise<Answer> {
    const { store } = this.components
    return reply(Response.Status.OK, { have: await Promise.all(cids.map(async cid => store.has(cid))) })
  }
}
