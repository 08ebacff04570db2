import { Response } from '../pb/chunk.js'
import { leaves, merklePath, pieceCount, pieceRange } from '../../chunking/merkle.js'
import { MAX_AUDITS_PER_REQUEST } from '../constants.js'
import { reply } from './types.js'
import type { Answer, RequestContext, RequestHandler } from './types.js'
import type { ChunkStore } from '../../store/index.js'

export interface AuditHandlerComponents {
  store: ChunkStore
}

/**
 * AUDIT: for each chunk, the piece asked with its path to the root
 * (src/chunking/merkle.ts), read from the bytes on disk; an empty proof for
 * a chunk not held for the sender or a piece it does not have.
 */
export class AuditHandler implements RequestHandler {
  constructor (private readonly components: AuditHandlerComponents) {}

  async handle ({ request, cids, sender }: RequestContext): Promise<Answer> {
    const { store } = this.components
    const pieces = request.pieces
    if (cids.length > MAX_AUDITS_PER_REQUEST) return reply(Response.Status.TOO_LARGE, { message: `at most ${MAX_AUDITS_PER_REQUEST} chunks per audit` })
    if (pieces.length !== cids.length) return reply(Response.Status.ERROR, { message: 'AUDIT takes one piece per CID' })
    const proofs = []
    for (const [i, cid] of cids.entries()) {
      const bytes = await store.claims.isHeldFor(cid, sender) ? await store.get(cid).catch(() => undefined) : undefined
      const index = pieces[i]
      if (bytes == null || index >= pieceCount(bytes.byteLength)) {
        proofs.push({ piece: new Uint8Array(0), path: [] })
        continue
      }
      const { start, end } = pieceRange(bytes.byteLength, index)
      proofs.push({ piece: bytes.subarray(start, end), path: merklePath(leaves([bytes]), index) })
    }
    return reply(Response.Status.OK, { proofs })
  }
}
