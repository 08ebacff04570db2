import { Response } from '../pb/chunk.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export interface RenewHandlerComponents {
  store: ChunkStore
}

/** RENEW: the sender's leases on the chunks; `have` says which it holds here. */
export class RenewHandler implements RequestHandler {
  constructor (private readonly components: RenewHandlerComponents) {}

  async handle ({ cids, sender }: RequestContext): Promise<Answer> {
    const { store } = this.components
    return reply(Response.Status.OK, { have: await Promise.all(cids.map(async cid => store.renew(cid, sender))) })
  }
}
