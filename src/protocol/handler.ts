import { logger } from '@libp2p/logger'
import { byteStream } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeResponse, encodeResponseHead, readRequestInto, writeMessage } from './codec.js'
import { parseChunkCid } from '../chunking/index.js'
import { Request, Response } from './pb/chunk.js'
import { CHUNK_PROTOCOL, MAX_CIDS_PER_REQUEST, MAX_INBOUND_STREAMS, MAX_MESSAGE_BYTES, MAX_OUTBOUND_STREAMS, STALL_TIMEOUT_MS, STREAM_IDLE_TIMEOUT_MS } from './constants.js'
import { reply, requestHandlers } from './handlers/index.js'
import type { Answer, HandlersInit, ReceivedData, RequestHandler } from './handlers/index.js'
import type { ChunkStore, ChunkWriter } from '../store/index.js'
import { PeerRates } from './rates.js'
import type { PeerRatesInit } from './rates.js'
import type { DataSink } from './codec.js'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

export { decodePeerId } from './peer-ids.js'
export { MIN_GROUP_BYTES, MAX_GROUP_BYTES } from './handlers/index.js'

const log = logger('backpack:protocol')

/** Where protocol handlers are registered: the libp2p node. */
export type Registrar = Pick<Libp2p, 'handle' | 'unhandle'>

export interface ChunkHandlerComponents {
  registrar: Registrar
  store: ChunkStore
}

export type ChunkHandlerInit = HandlersInit & PeerRatesInit & {
  /** A PUT whose bytes stop arriving for this long is dropped, and its reserved space freed @default STALL_TIMEOUT_MS */
  stallTimeoutMs?: number
}

/**
 * Where a request's data field goes as it arrives: a PUT's chunk straight
 * into the store (hashed and written piece by piece, never held whole,
 * its space reserved for the sending peer), any other data kept for the
 * request. A store that refuses the chunk at once (no space, past the
 * sender's quota) leaves its bytes to be read and dropped, and the refusal
 * to be answered. A chunk whose bytes stop coming for the stall timeout
 * aborts the read (`stalled`): its reservation goes at once.
 */
class RequestData implements DataSink, ReceivedData {
  writer?: ChunkWriter
  refused?: Error
  kept?: Uint8ArrayList
  /** Set once the request was counted against the sender's rate: ms to wait when past it */
  counted?: { busyMs?: number }
  private readonly stall = new AbortController()
  private timer?: ReturnType<typeof setTimeout>

  constructor (private readonly store: ChunkStore, private readonly sender: string, private readonly stallMs: number, private readonly rates: PeerRates) {}

  /** Aborted when a chunk being received stalls */
  get stalled (): AbortSignal { return this.stall.signal }

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
    // a PUT past the sender's rate is read and dropped, never written
    this.counted = { busyMs: this.rates.take(this.sender, 1) }
    if (this.counted.busyMs != null) return
    try {
      this.writer = await this.store.writer(cid, length, this.sender)
      this.arm()
    } catch (err: any) {
      this.refused = err
    }
  }

  piece (bytes: Uint8ArrayList): void {
    if (this.writer != null) {
      this.writer.write(bytes)
      this.arm()
    } else this.kept?.append(bytes)
  }

  /** (Re)start the stall timer: the next piece must come within the timeout. */
  private arm (): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.stall.abort(new Error(`no bytes for ${this.stallMs} ms: the chunk being stored stalled`))
      this.abort().catch(() => {})
    }, this.stallMs)
    this.timer.unref?.()
  }

  /** The whole request has arrived. */
  arrived (): void {
    clearTimeout(this.timer)
  }

  /** Drop a chunk not committed (does nothing after a commit). */
  async abort (): Promise<void> {
    clearTimeout(this.timer)
    await this.writer?.abort()
  }
}

/**
 * Serves `/backpack/chunk/1.0.0`: reads requests from streams and answers
 * each with the handler of its type (./handlers). Nothing a peer sends is
 * trusted: sizes are capped, CIDs parsed, received bytes re-hashed, chunks
 * stored and read only for their owners, within the sender's quota.
 */
export class ChunkHandler {
  private readonly components: ChunkHandlerComponents
  private readonly init: ChunkHandlerInit
  private readonly handlers: Record<Request.Type, RequestHandler>
  private readonly rates: PeerRates
  private started = false
  /** Streams being served, aborted by stop(): unhandle only stops new ones */
  private readonly streams = new Set<Stream>()

  constructor (components: ChunkHandlerComponents, init: ChunkHandlerInit = {}) {
    this.components = components
    this.init = init
    this.handlers = requestHandlers(components, init)
    this.rates = new PeerRates(init)
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
      const data = new RequestData(this.components.store, remote.toString(), this.init.stallTimeoutMs ?? STALL_TIMEOUT_MS, this.rates)
      try {
        const head = await readRequestInto(bytes, MAX_MESSAGE_BYTES, data, { signal: AbortSignal.any([AbortSignal.timeout(STREAM_IDLE_TIMEOUT_MS), data.stalled]) })
        data.arrived()
        try {
          request = Request.decode(head)
        } catch (err: any) {
          await data.abort()
          await refuse(Response.Status.ERROR, err)
          return
        }
      } catch (err: any) {
        await data.abort()
        if (data.stalled.aborted) {
          log('a PUT from %p stalled: dropped, its space freed', remote)
          stream.abort(data.stalled.reason)
          return
        }
        if (err.name === 'UnexpectedEOFError' || stream.readStatus !== 'readable') break
        await refuse(err.name === 'TooLargeError' ? Response.Status.TOO_LARGE : Response.Status.ERROR, err)
        return
      }
      if (data.kept != null) request.data = data.kept.subarray()
      // a PUT was counted when its chunk began to arrive, any other request now
      const busyMs = data.counted != null ? data.counted.busyMs : this.rates.take(remote.toString(), request.cids.length)
      const response: Answer = await (busyMs != null
        ? Promise.resolve(reply(Response.Status.BUSY, { message: `too many requests: ask again in ${busyMs} ms` }))
        : this.handleRequest(request, remote, data)).catch((err: Error) => {
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
  async handleRequest (request: Request, remote: PeerId, data?: ReceivedData): Promise<Answer> {
    if (request.cids.length > MAX_CIDS_PER_REQUEST) {
      return reply(Response.Status.TOO_LARGE, { message: `at most ${MAX_CIDS_PER_REQUEST} CIDs per request` })
    }
    const cids: CID[] = []
    for (const bytes of request.cids) {
      const cid = parseChunkCid(bytes)
      if (cid == null) return reply(Response.Status.ERROR, { message: 'malformed CID' })
      cids.push(cid)
    }
    const handler = this.handlers[request.type] as RequestHandler | undefined
    if (handler == null) return reply(Response.Status.ERROR, { message: 'unknown request type' })
    return handler.handle({ request, cids, remote, sender: remote.toString(), data })
  }
}
