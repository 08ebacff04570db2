import { Response } from '../pb/chunk.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export interface SpaceHandlerComponents {
  store: ChunkStore
}

/** SPACE: the bytes the sender may still store here (free space, within its quota). */
export class SpaceHandler implements RequestHandler {
  constructor (private readonly components: SpaceHandlerComponents) {}

  async handle ({ sender }: RequestContext): Promise<Answer> {
    return reply(Response.Status.OK, { free: BigInt(this.components.store.freeFor(sender)) })
  }
}
