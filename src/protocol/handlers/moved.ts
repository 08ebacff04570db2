import { Response } from '../pb/chunk.js'
import { decodePeerId } from '../peer-ids.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { CID } from 'multiformats/cid'

export interface MovedHandlerInit {
  /** The owner side: a holder tells us it handed our chunks to another peer */
  onMoved?: (from: string, to: string, cids: CID[]) => Promise<void>
}

/** MOVED, to an owner: the sender handed these chunks of ours on to `holder`. */
export class MovedHandler implements RequestHandler {
  constructor (private readonly init: MovedHandlerInit = {}) {}

  async handle ({ request, cids, sender }: RequestContext): Promise<Answer> {
    const holder = request.holder != null ? decodePeerId(request.holder) : undefined
    if (holder == null) return reply(Response.Status.ERROR, { message: 'MOVED needs a holder' })
    await this.init.onMoved?.(sender, holder.toString(), cids)
    return reply(Response.Status.OK)
  }
}
