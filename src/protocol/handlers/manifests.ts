import { Response } from '../pb/chunk.js'
import { MAX_MANIFESTS_PER_ANSWER } from '../constants.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export interface ManifestsHandlerComponents {
  store: ChunkStore
}

/** MANIFESTS: the manifests held for the sender, to rebuild its catalog. */
export class ManifestsHandler implements RequestHandler {
  constructor (private readonly components: ManifestsHandlerComponents) {}

  async handle ({ sender }: RequestContext): Promise<Answer> {
    const cids = await this.components.store.claims.manifestsOf(sender, MAX_MANIFESTS_PER_ANSWER)
    return reply(Response.Status.OK, { cids: cids.map(cid => cid.bytes) })
  }
}
