import { Response } from '../pb/chunk.js'
import { verifyClaim } from '../claims.js'
import { decodePeerId } from '../peer-ids.js'
import { forbidden, reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'
import type { Request } from '../pb/chunk.js'
import type { CID } from 'multiformats/cid'

/** Bytes a holder group may have (backpack's own are 32) */
export const MIN_GROUP_BYTES = 16
export const MAX_GROUP_BYTES = 64

export interface PutHandlerComponents {
  store: ChunkStore
}

export interface PutHandlerInit {
  /** A chunk was stored for `owner`, sent by `sender` with the owner's holder group */
  onGroup?: (owner: string, group: Uint8Array, sender: string) => Promise<void>
}

/** Whom a PUT stores its chunk for, or why it may not. */
export type PutOwner = { owner: string, claim?: Uint8Array } | { refused: Response }

/**
 * The owner of a PUT's chunk: the sender itself, or another peer when the
 * sender hands on that peer's chunk with the owner's signed claim (a peer
 * cannot store chunks in another's name, nor spend another's quota).
 */
export async function putOwner (request: Request, cid: CID, sender: string): Promise<PutOwner> {
  const claim = request.claim != null && request.claim.byteLength > 0 ? request.claim : undefined
  if (request.owner == null) return { owner: sender, claim }
  const id = decodePeerId(request.owner)
  if (id == null) return { refused: reply(Response.Status.ERROR, { message: 'malformed owner' }) }
  const owner = id.toString()
  if (owner === sender) return { owner, claim }
  if (claim == null || !(await verifyClaim(id, cid, claim))) {
    return { refused: forbidden(`a chunk for ${owner} needs its owner's signed claim`) }
  }
  return { owner, claim }
}

/** PUT: store a chunk (received into the store as it arrived) for its owner. */
export class PutHandler implements RequestHandler {
  constructor (private readonly components: PutHandlerComponents, private readonly init: PutHandlerInit = {}) {}

  async handle ({ request, cids, sender, data }: RequestContext): Promise<Answer> {
    const { store } = this.components
    if (cids.length !== 1) return reply(Response.Status.ERROR, { message: 'PUT takes one CID' })
    const who = await putOwner(request, cids[0], sender)
    if ('refused' in who) return who.refused
    const { owner, claim } = who
    const group = request.group
    if (group != null && (group.byteLength < MIN_GROUP_BYTES || group.byteLength > MAX_GROUP_BYTES)) {
      return reply(Response.Status.ERROR, { message: `a group has ${MIN_GROUP_BYTES} to ${MAX_GROUP_BYTES} bytes` })
    }
    try {
      if (data?.refused != null) throw data.refused
      // a copy: a view would keep the whole received message alive
      const signature = claim != null ? new Uint8Array(claim) : undefined
      if (data?.writer != null) await data.writer.commit(owner, signature)
      else await store.put(cids[0], request.data, owner, signature, sender)
      if (request.manifest === true) await store.claims.markManifest(cids[0], owner)
      if (group != null) await this.init.onGroup?.(owner, new Uint8Array(group), sender)
      return reply(Response.Status.OK)
    } catch (err: any) {
      if (err.name === 'BadHashError') return reply(Response.Status.BAD_HASH, { message: err.message })
      if (err.name === 'NoSpaceError') return reply(Response.Status.NO_SPACE, { message: err.message, free: BigInt(store.freeFor(owner)) })
      if (err.name === 'NotOwnerError') return forbidden(err.message)
      throw err
    }
  }
}
