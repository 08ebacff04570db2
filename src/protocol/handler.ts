import { logger } from '@libp2p/logger'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { byteStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeResponse, encodeResponseHead, readRequestInto, writeMessage } from './codec.js'
import * as Digest from 'multiformats/hashes/digest'
import { parseChunkCid } from '../chunking/index.js'
import { leaves, merklePath, pieceCount, pieceRange } from '../chunking/merkle.js'
import { Request, Response } from './pb/chunk.js'
import { CHUNK_PROTOCOL, MAX_AUDITS_PER_REQUEST, MAX_CIDS_PER_REQUEST, MAX_INBOUND_STREAMS, MAX_MANIFESTS_PER_ANSWER, MAX_MESSAGE_BYTES, MAX_OUTBOUND_STREAMS, STREAM_IDLE_TIMEOUT_MS } from './constants.js'
import type { ChunkReader, ChunkStore, ChunkWriter } from '../store/index.js'
import type { DataSink } from './codec.js'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:protocol')

/** Where protocol handlers are registered: the libp2p node. */
export type Registrar = Pick<Libp2p, 'handle' | 'unhandle'>

export interface ChunkHandlerComponents {
  registrar: Registrar
  store: ChunkStore
}

export interface ChunkHandlerInit {
  /** The owner side: a holder tells us it handed our chunks to another peer */
  onMoved?: (from: string, to: string, cids: CID[]) => Promise<void>
  /** A chunk was stored for `owner`, sent by `sender` with the owner's holder group */
  onGroup?: (owner: string, group: Uint8Array, sender: string) => Promise<void>
}

/** Bytes a holder group may have (backpack's own are 32) */
export const MIN_GROUP_BYTES = 16
export const MAX_GROUP_BYTES = 64

/** Decode peer id bytes from a peer; undefined when malformed. */
export function decodePeerId (bytes: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromMultihash(Digest.decode(bytes.slice()))
  } catch {
    return undefined
  }
}

/** A held chunk is sent from disk in pieces of this size, never read whole. */
const SERVE_PIECE_BYTES = 256 * 1024

/** An answer; a chunk served from disk comes as `body`, sent after the other fields. */
type Answer = Response & { body?: ChunkReader }

/**
 * Where a request's data field goes as it arrives: a PUT's chunk straight
 * into the store (hashed and written piece by piece, never held whole), any
 * other data kept for the request. A store that refuses the chunk at once
 * (no space) leaves its bytes to be read and dropped, and the refusal to be
 * answered.
 */
class RequestData implements DataSink {
  writer?: ChunkWriter
  refused?: Error
  kept?: Uint8ArrayList

  constructor (private readonly store: ChunkStore) {}

  async start (length: number, head: Uint8ArrayList): Promise<void> {
    let cid: CID | undefined
    try {
      const request = Request.decode(head)
      if (request.type === Request.Type.PUT && request.cids.length === 1) cid = parseChunkCid(request.cids[0])
    } catch {}
    if (cid == null) {
      this.kept = new Uint8ArrayList()
      return
    }
    try {
      this.writer = await this.store.writer(cid, length)
    } catch (err: any) {
      this.refused = err
    }
  }

  piece (bytes: Uint8ArrayList): void {
    if (this.writer != null) this.writer.write(bytes)
    else this.kept?.append(bytes)
  }

  /** Drop a chunk not committed (does nothing after a commit). */
  async abort (): Promise<void> {
    await this.writer?.abort()
  }
}

/**
 * AUDIT: for each chunk, the piece asked with its path to the root
 * (src/chunking/merkle.ts), read from the bytes on disk; an empty proof for
 * a chunk not held or a piece it does not have.
 */
async function audit (store: Pick<ChunkStore, 'get'>, cids: CID[], pieces: number[]): Promise<Response> {
  if (cids.length > MAX_AUDITS_PER_REQUEST) return reply(Response.Status.TOO_LARGE, { message: `at most ${MAX_AUDITS_PER_REQUEST} chunks per audit` })
  if (pieces.length !== cids.length) return reply(Response.Status.ERROR, { message: 'AUDIT takes one piece per CID' })
  const proofs = []
  for (const [i, cid] of cids.entries()) {
    const bytes = await store.get(cid).catch(() => undefined)
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

function reply (status: Response.Status, fields: Partial<Response> = {}): Response {
  return { status, data: new Uint8Array(0), have: [], message: '', cids: [], proofs: [], ...fields }
}

/**
 * Serves `/backpack/chunk/1.0.0`: store, fetch, has, delete, renew, space,
 * moved. Nothing a peer sends is trusted: sizes are capped, CIDs parsed,
 * received bytes re-hashed, deletes allowed only for the chunk's owner.
 */
export class ChunkHandler {
  private readonly components: ChunkHandlerComponents
  private readonly init: ChunkHandlerInit
  private started = false
  /** Streams being served, aborted by stop(): unhandle only stops new ones */
  private readonly streams = new Set<Stream>()

  constructor (components: ChunkHandlerComponents, init: ChunkHandlerInit = {}) {
    this.components = components
    this.init = init
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.components.registrar.handle(CHUNK_PROTOCOL, async (stream, connection) => {
      this.streams.add(stream)
      await this.handleStream(stream, connection).catch(err => {
        log('stream from %p ended: %s', connection.remotePeer, err.message)
        stream.abort(err)
      }).finally(() => {
        this.streams.delete(stream)
      })
    }, { maxInboundStreams: MAX_INBOUND_STREAMS, maxOutboundStreams: MAX_OUTBOUND_STREAMS })
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.components.registrar.unhandle(CHUNK_PROTOCOL)
    for (const stream of this.streams) stream.abort(new Error('chunk handler stopped'))
    this.streams.clear()
    this.started = false
  }

  /** Answer requests until the peer closes the stream or goes quiet. */
  async handleStream (stream: Stream, connection: Connection): Promise<void> {
    const bytes = byteStream(stream, { maxBufferSize: 2 * MAX_MESSAGE_BYTES })
    const remote = connection.remotePeer
    const refuse = async (status: Response.Status, err: Error): Promise<void> => {
      // say so, then drop the stream: after a bad frame the framing is lost
      log('bad request from %p: %s', remote, err.message)
      await writeMessage(bytes, encodeResponse(reply(status, { message: `bad request: ${err.message}` })), { signal: AbortSignal.timeout(5000) }).catch(() => {})
      stream.abort(err)
    }
    while (true) {
      let request: Request
      const data = new RequestData(this.components.store)
      try {
        const head = await readRequestInto(bytes, MAX_MESSAGE_BYTES, data, { signal: AbortSignal.timeout(STREAM_IDLE_TIMEOUT_MS) })
        try {
          request = Request.decode(head)
        } catch (err: any) {
          await data.abort()
          await refuse(Response.Status.ERROR, err)
          return
        }
      } catch (err: any) {
        await data.abort()
        if (err.name === 'UnexpectedEOFError' || stream.readStatus !== 'readable') break
        await refuse(err.name === 'TooLargeError' ? Response.Status.TOO_LARGE : Response.Status.ERROR, err)
        return
      }
      if (data.kept != null) request.data = data.kept.subarray()
      const response: Answer = await this.handleRequest(request, remote, data).catch((err: Error) => {
        log.error('request from %p failed %e', remote, err)
        return reply(Response.Status.ERROR, { message: err.message })
      }).finally(async () => { await data.abort() })
      const signal = AbortSignal.timeout(STREAM_IDLE_TIMEOUT_MS)
      if (response.body == null) {
        await writeMessage(bytes, encodeResponse(response), { signal })
        continue
      }
      // a chunk from disk, piece by piece; a read that fails half way
      // throws, and the stream is aborted: the peer asks another holder
      const { body, ...fields } = response
      try {
        await bytes.write(encodeResponseHead(fields, body.size), { signal })
        for await (const piece of body.pieces()) await bytes.write(piece, { signal })
      } finally {
        await body.close().catch(() => {})
      }
    }
    await stream.close().catch(() => {})
  }

  /**
   * One request from `remote`; never throws for bad input. A PUT's chunk
   * may have gone into the store as it arrived (`data`): it is committed
   * or dropped here.
   */
  async handleRequest (request: Request, remote: PeerId, data?: Pick<RequestData, 'writer' | 'refused'>): Promise<Answer> {
    const { store } = this.components
    if (request.cids.length > MAX_CIDS_PER_REQUEST) {
      return reply(Response.Status.TOO_LARGE, { message: `at most ${MAX_CIDS_PER_REQUEST} CIDs per request` })
    }
    const cids: CID[] = []
    for (const bytes of request.cids) {
      const cid = parseChunkCid(bytes)
      if (cid == null) return reply(Response.Status.ERROR, { message: 'malformed CID' })
      cids.push(cid)
    }
    const sender = remote.toString()
    switch (request.type) {
      case Request.Type.PUT: {
        if (cids.length !== 1) return reply(Response.Status.ERROR, { message: 'PUT takes one CID' })
        let owner = sender
        if (request.owner != null) {
          const id = decodePeerId(request.owner)
          if (id == null) return reply(Response.Status.ERROR, { message: 'malformed owner' })
          owner = id.toString()
        }
        const group = request.group
        if (group != null && (group.byteLength < MIN_GROUP_BYTES || group.byteLength > MAX_GROUP_BYTES)) {
          return reply(Response.Status.ERROR, { message: `a group has ${MIN_GROUP_BYTES} to ${MAX_GROUP_BYTES} bytes` })
        }
        try {
          if (data?.refused != null) throw data.refused
          if (data?.writer != null) await data.writer.commit(owner)
          else await store.put(cids[0], request.data, owner)
          if (request.manifest === true) await store.markManifest(cids[0], owner)
          // a copy: a view would keep the whole received message alive
          if (group != null) await this.init.onGroup?.(owner, new Uint8Array(group), sender)
          return reply(Response.Status.OK)
        } catch (err: any) {
          if (err.name === 'BadHashError') return reply(Response.Status.BAD_HASH, { message: err.message })
          if (err.name === 'NoSpaceError') return reply(Response.Status.NO_SPACE, { message: err.message, free: BigInt(store.free) })
          throw err
        }
      }
      case Request.Type.GET: {
        if (cids.length !== 1) return reply(Response.Status.ERROR, { message: 'GET takes one CID' })
        try {
          return { ...reply(Response.Status.OK), body: await store.reader(cids[0], SERVE_PIECE_BYTES) }
        } catch (err: any) {
          if (err.name === 'NotFoundError') return reply(Response.Status.NOT_FOUND, { message: err.message })
          throw err
        }
      }
      case Request.Type.MANIFESTS:
        return reply(Response.Status.OK, { cids: (await store.manifestsOf(sender, MAX_MANIFESTS_PER_ANSWER)).map(cid => cid.bytes) })
      case Request.Type.HAS:
        return reply(Response.Status.OK, { have: await Promise.all(cids.map(async cid => store.has(cid))) })
      case Request.Type.RENEW:
        return reply(Response.Status.OK, { have: await Promise.all(cids.map(async cid => store.renew(cid, sender))) })
      case Request.Type.DELETE: {
        const have: boolean[] = []
        let refused = 0
        for (const cid of cids) {
          const owners = await store.owners(cid)
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
      case Request.Type.SPACE:
        return reply(Response.Status.OK, { free: BigInt(store.free) })
      case Request.Type.AUDIT:
        return audit(store, cids, request.pieces)
      case Request.Type.MOVED: {
        const holder = request.holder != null ? decodePeerId(request.holder) : undefined
        if (holder == null) return reply(Response.Status.ERROR, { message: 'MOVED needs a holder' })
        await this.init.onMoved?.(sender, holder.toString(), cids)
        return reply(Response.Status.OK)
      }
      default:
        return reply(Response.Status.ERROR, { message: 'unknown request type' })
    }
  }
}
