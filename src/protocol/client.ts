import { logger } from '@libp2p/logger'
import { byteStream } from '@libp2p/utils'
import { encodeRequest, readMessage, readResponseInto, writeMessage } from './codec.js'
import { BadHashError, NoSpaceError, NotFoundError, NotOwnerError, ProtocolError, UnavailableError } from '../errors.js'
import { matchesCid, parseChunkCid } from '../chunking/index.js'
import { Request, Response } from './pb/chunk.js'
import type { AuditProof } from './pb/chunk.js'
import { CHUNK_PROTOCOL, DEFAULT_MAX_STREAMS_PER_PEER, DEFAULT_REQUEST_TIMEOUT_MS, MAX_AUDITS_PER_REQUEST, MAX_CIDS_PER_REQUEST, MAX_MANIFESTS_PER_ANSWER, MAX_MESSAGE_BYTES } from './constants.js'
import { signClaim } from './claims.js'
import type { Libp2p, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import type { DataSink } from './codec.js'
import type { ByteStream } from '@libp2p/utils'
import type { Uint8ArrayList } from 'uint8arraylist'
import type { CID } from 'multiformats/cid'

const log = logger('backpack:protocol:client')

export interface ChunkClientComponents {
  dialer: Pick<Libp2p, 'dialProtocol'>
  /** This node's key: each chunk it stores as its own goes with its signed claim (holders need it to hand the chunk on) */
  privateKey?: PrivateKey
}

export interface ChunkClientInit {
  /** @default 30 s */
  timeoutMs?: number
  /** @default 8 */
  maxStreamsPerPeer?: number
}

export interface RequestOptions {
  signal?: AbortSignal
}

interface PooledStream {
  stream: Stream
  bytes: ByteStream<Stream>
}

interface PeerPool {
  idle: PooledStream[]
  open: number
  waiters: Array<() => void>
}

/**
 * Client of `/backpack/chunk/1.0.0`. Keeps a few streams open per peer and
 * runs one request at a time on each, so many chunks can be in flight to a
 * peer without a stream negotiation per chunk.
 */
export class ChunkClient {
  private readonly components: ChunkClientComponents
  private readonly timeoutMs: number
  private readonly maxStreams: number
  private readonly pools = new Map<string, PeerPool>()

  constructor (components: ChunkClientComponents, init: ChunkClientInit = {}) {
    this.components = components
    this.timeoutMs = init.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.maxStreams = init.maxStreamsPerPeer ?? DEFAULT_MAX_STREAMS_PER_PEER
  }

  async stop (): Promise<void> {
    for (const pool of this.pools.values()) {
      for (const { stream } of pool.idle) await stream.close().catch(() => stream.abort(new Error('client stopped')))
    }
    this.pools.clear()
  }

  private pool (peer: PeerId): PeerPool {
    const key = peer.toString()
    let pool = this.pools.get(key)
    if (pool == null) {
      pool = { idle: [], open: 0, waiters: [] }
      this.pools.set(key, pool)
    }
    return pool
  }

  private async acquire (peer: PeerId, signal: AbortSignal): Promise<{ entry: PooledStream, reused: boolean }> {
    const pool = this.pool(peer)
    while (true) {
      signal.throwIfAborted()
      const idle = pool.idle.pop()
      if (idle != null) {
        if (idle.stream.status === 'open' && idle.stream.writeStatus === 'writable') return { entry: idle, reused: true }
        pool.open--
        continue
      }
      if (pool.open < this.maxStreams) {
        pool.open++
        try {
          const stream = await this.components.dialer.dialProtocol(peer, CHUNK_PROTOCOL, { signal })
          return { entry: { stream, bytes: byteStream(stream, { maxBufferSize: 2 * MAX_MESSAGE_BYTES }) }, reused: false }
        } catch (err) {
          this.release(peer, undefined)
          throw err
        }
      }
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        pool.waiters.push(() => { signal.removeEventListener('abort', onAbort); resolve() })
      })
    }
  }

  /** Give a stream back; undefined when it was broken and dropped. */
  private release (peer: PeerId, entry: PooledStream | undefined): void {
    const pool = this.pool(peer)
    if (entry != null) {
      pool.idle.push(entry)
    } else {
      pool.open--
    }
    pool.waiters.shift()?.()
  }

  /**
   * Send one request and read its response; with `sink`, the response's
   * data field goes to it piece by piece as it arrives.
   */
  async request (peer: PeerId, request: Partial<Request> & { type: Request.Type }, options: RequestOptions & { sink?: DataSink, data?: Uint8Array | Uint8ArrayList } = {}): Promise<Response> {
    const full: Request = { cids: [], data: new Uint8Array(0), pieces: [], ...request }
    const signal = options.signal != null
      ? AbortSignal.any([options.signal, AbortSignal.timeout(this.timeoutMs)])
      : AbortSignal.timeout(this.timeoutMs)
    // a reused stream may have been closed by the peer while idle: retry once on a fresh one
    for (let attempt = 0; ; attempt++) {
      const { entry, reused } = await this.acquire(peer, signal)
      let answered = false
      const sink = options.sink != null ? { ...options.sink, start: async (length: number, head: Uint8ArrayList) => { answered = true; await options.sink?.start(length, head) } } : undefined
      try {
        await writeMessage(entry.bytes, encodeRequest(full, options.data), { signal })
        const response = sink != null
          ? await readResponseInto(entry.bytes, MAX_MESSAGE_BYTES, sink, { signal })
          : Response.decode(await readMessage(entry.bytes, MAX_MESSAGE_BYTES, { signal }))
        this.release(peer, entry)
        return response
      } catch (err: any) {
        entry.stream.abort(err)
        this.release(peer, undefined)
        if (reused && attempt === 0 && !signal.aborted && !answered) {
          log('retrying on a fresh stream to %p: %s', peer, err.message)
          continue
        }
        throw err
      }
    }
  }

  /**
   * Store a chunk on a peer: as this node's own (signed with its key), or
   * someone else's that this node hands on (`owner`, with the claim that
   * owner signed).
   */
  async put (peer: PeerId, cid: CID, data: Uint8Array | Uint8ArrayList, options: RequestOptions & { owner?: PeerId, claim?: Uint8Array, group?: Uint8Array, manifest?: boolean } = {}): Promise<void> {
    const own = this.components.privateKey
    const claim = options.owner != null ? options.claim : own != null ? await signClaim(own, cid) : undefined
    const response = await this.request(peer, {
      type: Request.Type.PUT,
      cids: [cid.bytes],
      owner: options.owner?.toMultihash().bytes,
      claim,
      group: options.group,
      manifest: options.manifest === true ? true : undefined
    }, { ...options, data })
    check(response, peer)
  }

  /**
   * Fetch a chunk; its bytes are verified against the CID unless `verify`
   * is false (the caller checks them itself, e.g. in a worker).
   */
  async get (peer: PeerId, cid: CID, options: RequestOptions & { verify?: boolean } = {}): Promise<Uint8Array> {
    const response = await this.request(peer, { type: Request.Type.GET, cids: [cid.bytes] }, options)
    check(response, peer)
    if (options.verify !== false && !matchesCid(cid, response.data)) {
      throw new BadHashError(`peer ${peer} sent bytes that do not match ${cid}`)
    }
    return response.data
  }

  /**
   * Fetch a chunk into `sink` as its bytes arrive (a response without data
   * never calls it). Nothing is verified here: the sink checks the bytes,
   * and an error it throws fails the request.
   */
  async getInto (peer: PeerId, cid: CID, sink: DataSink, options: RequestOptions = {}): Promise<void> {
    const response = await this.request(peer, { type: Request.Type.GET, cids: [cid.bytes] }, { ...options, sink })
    check(response, peer)
  }

  /** Which of these chunks does the peer hold. */
  async has (peer: PeerId, cids: CID[], options: RequestOptions = {}): Promise<boolean[]> {
    return this.batched(peer, Request.Type.HAS, cids, options)
  }

  /** Renew our lease on chunks; answers which the peer still holds for us. */
  async renew (peer: PeerId, cids: CID[], options: RequestOptions = {}): Promise<boolean[]> {
    return this.batched(peer, Request.Type.RENEW, cids, options)
  }

  /** Ask the peer to drop our claim on chunks. */
  async delete (peer: PeerId, cids: CID[], options: RequestOptions = {}): Promise<boolean[]> {
    return this.batched(peer, Request.Type.DELETE, cids, options)
  }

  /** Tell an owner that its chunks moved from us to `holder`. */
  async moved (owner: PeerId, holder: PeerId, cids: CID[], options: RequestOptions = {}): Promise<void> {
    await this.batched(owner, Request.Type.MOVED, cids, options, holder.toMultihash().bytes)
  }

  /** The manifests the peer holds for us. */
  async manifests (peer: PeerId, options: RequestOptions = {}): Promise<CID[]> {
    const response = await this.request(peer, { type: Request.Type.MANIFESTS }, options)
    check(response, peer)
    if (response.cids.length > MAX_MANIFESTS_PER_ANSWER) throw new ProtocolError(`peer ${peer} named ${response.cids.length} manifests`)
    return response.cids.map(bytes => {
      const cid = parseChunkCid(bytes)
      if (cid == null) throw new ProtocolError(`peer ${peer} named a malformed CID`)
      return cid
    })
  }

  /**
   * Ask the peer to prove it holds chunks: for each, the piece asked with
   * its path (checked by the caller against the root it kept). An empty
   * piece: the peer does not hold it.
   */
  async audit (peer: PeerId, asks: Array<{ cid: CID, piece: number }>, options: RequestOptions = {}): Promise<AuditProof[]> {
    const out: AuditProof[] = []
    for (let i = 0; i < asks.length; i += MAX_AUDITS_PER_REQUEST) {
      const batch = asks.slice(i, i + MAX_AUDITS_PER_REQUEST)
      const response = await this.request(peer, { type: Request.Type.AUDIT, cids: batch.map(a => a.cid.bytes), pieces: batch.map(a => a.piece) }, options)
      check(response, peer)
      if (response.proofs.length !== batch.length) throw new ProtocolError(`peer ${peer} answered ${response.proofs.length} of ${batch.length} audits`)
      out.push(...response.proofs)
    }
    return out
  }

  /** Bytes the peer can still take. */
  async space (peer: PeerId, options: RequestOptions = {}): Promise<number> {
    const response = await this.request(peer, { type: Request.Type.SPACE }, options)
    check(response, peer)
    return Number(response.free ?? 0n)
  }

  private async batched (peer: PeerId, type: Request.Type, cids: CID[], options: RequestOptions, holder?: Uint8Array): Promise<boolean[]> {
    const out: boolean[] = []
    for (let i = 0; i < cids.length || (i === 0 && cids.length === 0); i += MAX_CIDS_PER_REQUEST) {
      const batch = cids.slice(i, i + MAX_CIDS_PER_REQUEST)
      const response = await this.request(peer, { type, cids: batch.map(c => c.bytes), holder }, options)
      check(response, peer)
      if (type !== Request.Type.MOVED && response.have.length !== batch.length) {
        throw new ProtocolError(`peer ${peer} answered ${response.have.length} of ${batch.length} CIDs`)
      }
      out.push(...response.have)
      if (cids.length === 0) break
    }
    return out
  }
}

/** Turn a non-OK status into the matching typed error. */
function check (response: Response, peer: PeerId): void {
  const detail = response.message !== '' ? `: ${response.message}` : ''
  switch (response.status) {
    case Response.Status.OK: return
    case Response.Status.NOT_FOUND: throw new NotFoundError(`peer ${peer} does not have it${detail}`)
    case Response.Status.NO_SPACE: throw new NoSpaceError(`peer ${peer} has no space${detail}`)
    case Response.Status.BAD_HASH: throw new BadHashError(`peer ${peer} refused bad bytes${detail}`)
    case Response.Status.FORBIDDEN: throw new NotOwnerError(`peer ${peer} refused${detail}`)
    case Response.Status.BUSY: throw new UnavailableError(`peer ${peer} is busy${detail}`)
    default: throw new ProtocolError(`peer ${peer} failed${detail}`)
  }
}
