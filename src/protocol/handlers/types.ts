import { Response } from '../pb/chunk.js'
import type { ChunkReader, ChunkWriter } from '../../store/index.js'
import type { Request } from '../pb/chunk.js'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** An answer; a chunk served from disk comes as `body`, sent after the other fields. */
export type Answer = Response & { body?: ChunkReader }

/** What a PUT's chunk became as it arrived: a writer to commit, or the store's refusal. */
export interface ReceivedData {
  writer?: ChunkWriter
  refused?: Error
}

/** One request, checked: its CIDs parsed, its sender authenticated by the connection. */
export interface RequestContext {
  request: Request
  cids: CID[]
  remote: PeerId
  /** `remote` as text */
  sender: string
  data?: ReceivedData
}

/** Answers one type of request (as kad-dht's rpc/handlers). Never throws for bad input. */
export interface RequestHandler {
  handle: (context: RequestContext) => Promise<Answer>
}

export function reply (status: Response.Status, fields: Partial<Response> = {}): Response {
  return { status, data: new Uint8Array(0), have: [], message: '', cids: [], proofs: [], ...fields }
}

export const forbidden = (message: string): Response => reply(Response.Status.FORBIDDEN, { message })
