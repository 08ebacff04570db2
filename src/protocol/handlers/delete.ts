import { logger } from '@libp2p/logger'
import { Response } from '../pb/chunk.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

const log = logger('backpack:protocol:delete')

export interface DeleteHandlerComponents {
  store: ChunkStore
}

/** DELETE: drop the sender's claims; a chunk held only for others is refused, and stays. */
export class DeleteHandler implements RequestHandler {
  constructor (private readonly components: DeleteHandlerComponents) {}

  async handle ({ cids, sender, remote }: RequestContext): Promise<Answer> {
    const { store } = this.components
    const have: boolean[] = []
    let refused = 0
    for (const cid of cids) {
      const owners = await store.claims.owners(cid)
      if (owners.length > 0 && !owners.some(o => o.owner === sender)) {
        refused++
        have.push(false)
        continue
      }
      have.push(await store.release(cid, sender))
    }
    if (refused > 0) {
      log('refused to delete %d chunks for %p: not their owner', refused, remote)
      return reply(Response.Status.FORBIDDEN, { have, message: `${refused} chunks are not held for ${sender}` })
    }
    return reply(Response.Status.OK, { have })
  }
}
