/**
 * One handler per request type of `/backpack/chunk/1.0.0` (as kad-dht's
 * rpc/handlers): the stream framing is ChunkHandler's, each answer is here.
 */
import { Request } from '../pb/chunk.js'
import { AuditHandler } from './audit.js'
import { DeleteHandler } from './delete.js'
import { GetHandler } from './get.js'
import { HasHandler } from './has.js'
import { ManifestsHandler } from './manifests.js'
import { MovedHandler } from './moved.js'
import { PutHandler } from './put.js'
import { RenewHandler } from './renew.js'
import { SpaceHandler } from './space.js'
import type { MovedHandlerInit } from './moved.js'
import type { PutHandlerInit } from './put.js'
import type { RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export { putOwner, MIN_GROUP_BYTES, MAX_GROUP_BYTES } from './put.js'
export { reply } from './types.js'
export type { Answer, ReceivedData, RequestContext, RequestHandler } from './types.js'

export interface HandlersComponents {
  store: ChunkStore
}

export type HandlersInit = PutHandlerInit & MovedHandlerInit

export function requestHandlers (components: HandlersComponents, init: HandlersInit = {}): Record<Request.Type, RequestHandler> {
  return {
    [Request.Type.PUT]: new PutHandler(components, init),
    [Request.Type.GET]: new GetHandler(components),
    [Request.Type.HAS]: new HasHandler(components),
    [Request.Type.DELETE]: new DeleteHandler(components),
    [Request.Type.RENEW]: new RenewHandler(components),
    [Request.Type.SPACE]: new SpaceHandler(components),
    [Request.Type.MOVED]: new MovedHandler(init),
    [Request.Type.MANIFESTS]: new ManifestsHandler(components),
    [Request.Type.AUDIT]: new AuditHandler(components)
  }
}
