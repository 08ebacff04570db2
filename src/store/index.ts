import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { Claims } from './claims.js'
import type { CID } from 'multiformats/cid'
import { BadHashError, NoSpaceError, NotFoundError, errorMessage, isDiskFull, isNoSpace } from '../errors.js'
import { cidChecker, matchesCid, parseChunkCid } from '../chunking/index.js'
import { delay } from '../util/concurrency.js'
import { PieceFile, pathExists } from '../util/fs.js'
import type { Datastore } from 'interface-datastore'
import type { Uint8ArrayList } from 'uint8arraylist'

const log = logger('backpack:store')

export { Claims, decodeTime, encodeTime } from './claims.js'
export type { DiskUser, HeldChunk } from './claims.js'

/**
 * The share of this node's limit one owner may take by default; an owner
 * that holds chunks for this node may take as much more (reciprocity).
 */
export const DEFAULT_PEER_SHARE = 0.5

export interface ChunkStoreComponents {
  datastore: Datastore
}

export interface ChunkStoreInit {
  /** The folder of chunk files */
  dir: string
  /** Bytes this node lends to others */
  limit: number
  /** Sync each chunk to disk before acknowledging it @default true */
  fsync?: boolean
  /** A chunk file was removed */
  onRemoved?: (cid: CID) => void
  /** The share of the limit one owner may take, 0 to 1 @default DEFAULT_PEER_SHARE */
  peerShare?: number
  /** Bytes `owner` holds for this node: it may take as much more than its share */
  creditOf?: (owner: string) => number
}

/** A held chunk being read (`ChunkStore.reader`). */
export interface ChunkReader {
  size: number
  pieces: () => AsyncGenerator<Uint8Array>
  close: () => Promise<void>
}

/**
 * A chunk being stored as its bytes arrive (`ChunkStore.writer`): `write`
 * each piece in order, then `commit` (the bytes checked against the CID,
 * the copy put in place and claimed) or `abort` (nothing kept). Either
 * releases what the writer holds; `abort` after `commit` does nothing.
 */
export interface ChunkWriter {
  write: (piece: Uint8Array | Uint8ArrayList) => void
  /** Store the copy for `owner`, with its signed claim when it came with one */
  commit: (owner: string, signature?: Uint8Array) => Promise<void>
  abort: () => Promise<void>
}

/** A copy written this long ago with no claim is left over from a crash (a put records its claim within moments). */
export const UNCLAIMED_GRACE_MS = 60 * 60_000

/**
 * The chunks this node holds for others: content-addressed files in sharded
 * folders, written to a temp file and renamed (a crash never leaves a partial
 * chunk under a real name), hashed on write and by `scrub()`, counted against
 * the storage limit. Each chunk records the peers it is held for
 * (`claims`), and no owner takes more than its quota.
 */
export class ChunkStore {
  readonly claims: Claims
  private readonly components: ChunkStoreComponents
  private readonly init: ChunkStoreInit
  private usedBytes = 0
  private reservedBytes = 0
  /** Bytes reserved by chunks being received, per owner */
  private readonly reservedBy = new Map<string, number>()
  private limitBytes: number
  private readonly tmpDir: string
  /** Chunks being received by `writer`s, and how many times at once */
  private readonly receiving = new Map<string, number>()
  /** Received copies being put in place, by CID: one at a time per chunk */
  private readonly placing = new Map<string, Promise<void>>()

  constructor (components: ChunkStoreComponents, init: ChunkStoreInit) {
    this.components = components
    this.init = init
    this.limitBytes = init.limit
    this.tmpDir = join(init.dir, 'tmp')
    this.claims = new Claims(components)
  }

  /** Count what is on disk; remove temp files a crash left behind. */
  async start (): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true })
    await mkdir(this.tmpDir, { recursive: true })
    let used = 0
    for await (const { path } of this.files()) {
      used += (await stat(path).catch(() => ({ size: 0 }))).size
    }
    this.usedBytes = used
    await this.claims.start(async cid => this.size(cid))
    log('holding %d bytes, limit %d', used, this.limitBytes)
  }

  async stop (): Promise<void> {}

  /** Every file in the shard folders (not the temp folder). */
  private async * files (): AsyncGenerator<{ name: string, path: string }> {
    for (const shard of await readdir(this.init.dir)) {
      if (shard === 'tmp') continue
      for (const name of await readdir(join(this.init.dir, shard)).catch(() => [])) {
        yield { name, path: join(this.init.dir, shard, name) }
      }
    }
  }

  get used (): number { return this.usedBytes }
  get limit (): number { return this.limitBytes }
  /** Bytes a new chunk may still take. */
  get free (): number { return Math.max(0, this.limitBytes - this.usedBytes - this.reservedBytes) }

  setLimit (bytes: number): void {
    this.limitBytes = bytes
  }

  /**
   * The most `owner` may hold here: its share of the limit, and as much
   * more as it holds for this node, never more than the limit.
   */
  quotaOf (owner: string): number {
    const share = Math.floor(this.limitBytes * (this.init.peerShare ?? DEFAULT_PEER_SHARE))
    return Math.min(this.limitBytes, share + Math.max(0, this.init.creditOf?.(owner) ?? 0))
  }

  /** Bytes a new chunk for `owner` may still take: free space, within its quota. */
  freeFor (owner: string): number {
    return Math.max(0, Math.min(this.free, this.quotaOf(owner) - this.takenBy(owner)))
  }

  /** Bytes `owner` holds here, and has reserved for chunks on their way. */
  private takenBy (owner: string): number {
    return this.claims.usedBy(owner) + (this.reservedBy.get(owner) ?? 0)
  }

  /** NoSpaceError when `size` more bytes for `owner` would go past its quota. */
  private checkQuota (owner: string, size: number): void {
    const quota = this.quotaOf(owner)
    const taken = this.takenBy(owner)
    if (taken + size > quota) {
      throw new NoSpaceError(`no space for ${size} more bytes for ${owner}: it holds ${taken} of the ${quota} it may hold here`)
    }
  }

  private reserve (owner: string, bytes: number): void {
    const now = (this.reservedBy.get(owner) ?? 0) + bytes
    if (now > 0) this.reservedBy.set(owner, now)
    else this.reservedBy.delete(owner)
  }

  private path (cid: CID): string {
    const text = cid.toString()
    return join(this.init.dir, text.slice(-2), text)
  }

  async has (cid: CID): Promise<boolean> {
    return pathExists(this.path(cid))
  }

  /**
   * The chunk's bytes as they are on disk. Not re-hashed: every peer that
   * receives them checks them against the CID (and fails over to another
   * copy), and `scrub()` checks every copy here in the background.
   */
  async get (cid: CID): Promise<Uint8Array> {
    try {
      return await readFile(this.path(cid))
    } catch {
      throw new NotFoundError(`chunk ${cid} is not held here`)
    }
  }

  /**
   * A held chunk opened for reading in pieces of `pieceBytes`, so a served
   * chunk is never in memory whole. The size is the open file's: a copy
   * replaced meanwhile is read as it was when opened. `close` when done.
   */
  async reader (cid: CID, pieceBytes: number): Promise<ChunkReader> {
    let handle
    try {
      handle = await open(this.path(cid), 'r')
    } catch {
      throw new NotFoundError(`chunk ${cid} is not held here`)
    }
    const file = handle
    const { size } = await file.stat()
    return {
      size,
      async * pieces () {
        for (let at = 0; at < size;) {
          const piece = Buffer.allocUnsafe(Math.min(pieceBytes, size - at))
          const { bytesRead } = await file.read(piece, 0, piece.byteLength, at)
          if (bytesRead === 0) throw new Error(`chunk ${cid} ended at ${at} of ${size} bytes`)
          at += bytesRead
          yield bytesRead === piece.byteLength ? piece : piece.subarray(0, bytesRead)
        }
      },
      close: async () => { await file.close() }
    }
  }

  /**
   * Re-hash every chunk on disk and remove each copy that no longer matches
   * its CID, with its claims: the owners' next replica check finds it gone
   * and places it again. Reads at most `bytesPerSecond`. Also removes copies
   * no owner claims (a crash between writing a copy and recording its claim,
   * or between dropping the last claim and the file): nothing else would.
   */
  async scrub (options: { bytesPerSecond?: number, signal?: AbortSignal } = {}): Promise<{ checked: number, dropped: number, unclaimed: number }> {
    const rate = options.bytesPerSecond ?? Infinity
    const started = Date.now()
    let read = 0
    let checked = 0
    let dropped = 0
    let unclaimed = 0
    for await (const { name, path } of this.files()) {
      options.signal?.throwIfAborted()
      const cid = parseChunkCid(name)
      if (cid == null) continue
      if (await this.isUnclaimed(cid, path)) {
        log('chunk %c is held for no one, removing it', cid)
        await this.removeFile(cid)
        unclaimed++
        continue
      }
      const bytes = await readFile(path).catch(() => undefined)
      if (bytes == null) continue
      checked++
      if (!matchesCid(cid, bytes)) {
        log.error('chunk %c is corrupt on disk, removing it', cid)
        await this.remove(cid)
        dropped++
      }
      read += bytes.byteLength
      const ahead = read / rate * 1000 - (Date.now() - started)
      if (ahead > 0) await delay(ahead, options.signal)
    }
    log('scrubbed %d chunks, dropped %d corrupt ones and %d held for no one', checked, dropped, unclaimed)
    return { checked, dropped, unclaimed }
  }

  /**
   * A copy on disk with no claim, older than a put takes to record one. The
   * claims are asked last, just before the copy would go: a put of the same
   * chunk may claim it meanwhile.
   */
  private async isUnclaimed (cid: CID, path: string): Promise<boolean> {
    if (this.receiving.has(cid.toString())) return false
    const modified = await stat(path).then(s => s.mtimeMs, () => Date.now())
    if (Date.now() - modified <= UNCLAIMED_GRACE_MS) return false
    return (await this.claims.owners(cid)).length === 0
  }

  /**
   * Store a chunk for `owner`. Refuses bytes that do not match the CID
   * (BadHashError) and anything beyond the limit (NoSpaceError).
   */
  async put (cid: CID, bytes: Uint8Array, owner: string, signature?: Uint8Array, sender = owner): Promise<void> {
    const writer = await this.writer(cid, bytes.byteLength, sender)
    writer.write(bytes)
    await writer.commit(owner, signature)
  }

  /**
   * Store a chunk of `size` bytes as they arrive: each piece is hashed and
   * written to a temporary file at once, and the copy is renamed into
   * place once all of it is on disk and matches the CID, so a chunk being
   * received is never in memory whole. NoSpaceError at once when `size` is
   * beyond the limit; at `commit`, BadHashError when the bytes do not match
   * the CID and NoSpaceError when the disk filled up. A chunk already held
   * takes no new space: its bytes are only kept (in memory) in case the
   * copy on disk turns out to be corrupt and is written again. The bytes
   * are reserved for `sender`, the peer sending them (against its quota:
   * NoSpaceError at once when beyond it), until the writer ends; `commit`
   * stores the copy for its owner (the sender, or the peer whose chunk it
   * hands on: NoSpaceError when beyond that owner's quota).
   */
  async writer (cid: CID, size: number, sender: string): Promise<ChunkWriter> {
    const key = cid.toString()
    const checker = cidChecker(cid)
    let received = 0
    if (!(await this.claims.isHeldFor(cid, sender))) this.checkQuota(sender, size)
    /** The owner's quota, when another peer's reservation brought its chunk */
    const admit = async (owner: string): Promise<void> => {
      if (owner !== sender && !(await this.claims.isHeldFor(cid, owner))) this.checkQuota(owner, size)
    }
    if (await this.has(cid)) {
      const kept: Uint8Array[] = []
      return {
        write: piece => {
          for (const part of partsOf(piece)) {
            checker.update(part)
            kept.push(part)
            received += part.byteLength
          }
        },
        commit: async (owner, signature) => {
          if (received !== size || !checker.matches()) throw new BadHashError(`bytes do not match ${cid}`)
          await admit(owner)
          if (await this.holdsIntact(cid)) {
            await this.claim(cid, owner, size, false, signature)
            return
          }
          // the copy on disk was corrupt, and is gone: these bytes replace it
          const again = await this.writer(cid, size, sender)
          for (const part of kept) again.write(part)
          await again.commit(owner, signature)
        },
        abort: async () => {}
      }
    }
    if (size > this.free) {
      throw new NoSpaceError(`no space for ${size} bytes: ${this.usedBytes} of ${this.limitBytes} used`)
    }
    this.reservedBytes += size
    this.reserve(sender, size)
    this.receiving.set(key, (this.receiving.get(key) ?? 0) + 1)
    /** Give back the room and the receiving mark (once the writer ended) */
    const release = (): void => {
      this.reservedBytes -= size
      this.reserve(sender, -size)
      const left = (this.receiving.get(key) ?? 1) - 1
      if (left > 0) this.receiving.set(key, left)
      else this.receiving.delete(key)
    }
    let file: PieceFile
    try {
      file = await PieceFile.create(join(this.tmpDir, `${key}.${randomBytes(4).toString('hex')}`))
    } catch (err) {
      release()
      throw diskFullAsNoSpace(err, size)
    }
    let ended = false
    return {
      write: piece => {
        const parts = partsOf(piece)
        const at = received
        for (const part of parts) {
          checker.update(part)
          received += part.byteLength
        }
        if (received > size || ended) return
        // each write starts at once; commit waits for all of them
        file.write(parts, at)
      },
      commit: async (owner, signature) => {
        if (ended) throw new Error(`the write of ${cid} was aborted`)
        ended = true
        try {
          if (received !== size || !checker.matches()) throw new BadHashError(`bytes do not match ${cid}`)
          await admit(owner)
          await file.finish(this.init.fsync !== false)
          const wrote = await this.place(cid, file.path, size)
          await this.claim(cid, owner, size, wrote, signature)
        } catch (err) {
          await file.discard()
          throw diskFullAsNoSpace(err, size)
        } finally {
          release()
        }
      },
      abort: async () => {
        if (ended) return
        ended = true
        await file.discard()
        release()
      }
    }
  }

  /**
   * Rename a received copy into place, one at a time per chunk; a good copy
   * already there is kept (and the new one dropped). Whether it was placed.
   */
  private async place (cid: CID, tmp: string, size: number): Promise<boolean> {
    const key = cid.toString()
    const previous = this.placing.get(key) ?? Promise.resolve()
    const placed = previous.then(async () => {
      if (await this.holdsIntact(cid)) {
        await unlink(tmp).catch(() => {})
        return false
      }
      const target = this.path(cid)
      await mkdir(join(target, '..'), { recursive: true })
      await rename(tmp, target)
      this.usedBytes += size
      return true
    })
    const settled = placed.then(() => {}, () => {})
    this.placing.set(key, settled)
    try {
      return await placed
    } finally {
      if (this.placing.get(key) === settled) this.placing.delete(key)
    }
  }

  /** Record `owner`'s claim on a copy now on disk; a copy just `wrote` that no one claims goes again. */
  private async claim (cid: CID, owner: string, size: number, wrote: boolean, signature?: Uint8Array): Promise<void> {
    try {
      await this.claims.record(cid, owner, size, signature)
    } catch (err) {
      // no claim, no copy: nothing would ever delete it
      if (wrote && (await this.claims.owners(cid)).length === 0) await this.removeFile(cid)
      if (isNoSpace(err)) throw new NoSpaceError(`the disk is full: no room to record ${cid} (${errorMessage(err)})`)
      throw err
    }
  }

  /**
   * Is a good copy of the chunk on disk? A corrupt copy is removed (its
   * claims kept) so that a put writes it again rather than acknowledging a
   * chunk this node cannot serve.
   */
  private async holdsIntact (cid: CID): Promise<boolean> {
    let existing: Uint8Array
    try {
      existing = await readFile(this.path(cid))
    } catch {
      return false
    }
    if (matchesCid(cid, existing)) return true
    log.error('chunk %c is corrupt on disk, writing it again', cid)
    await this.removeFile(cid)
    return false
  }

  /** Size in bytes of a held chunk, or undefined. */
  async size (cid: CID): Promise<number | undefined> {
    return stat(this.path(cid)).then(s => s.size, () => undefined)
  }

  /** Renew `owner`'s lease on a chunk; false when not held for it. */
  async renew (cid: CID, owner: string): Promise<boolean> {
    if (!(await this.has(cid))) return false
    return this.claims.renew(cid, owner)
  }

  /**
   * Drop `owner`'s claim on a chunk; the file goes when nobody claims it.
   * Returns true when the owner had a claim.
   */
  async release (cid: CID, owner: string): Promise<boolean> {
    const had = await this.claims.drop(cid, owner, await this.size(cid) ?? 0)
    if ((await this.claims.owners(cid)).length === 0) await this.removeFile(cid)
    return had
  }

  /** Remove a chunk and every claim on it. */
  async remove (cid: CID): Promise<void> {
    const size = await this.size(cid) ?? 0
    for (const { owner } of await this.claims.owners(cid)) await this.claims.drop(cid, owner, size)
    await this.removeFile(cid)
  }

  private async removeFile (cid: CID): Promise<void> {
    const path = this.path(cid)
    const size = await stat(path).then(s => s.size, () => undefined)
    if (size === undefined) return
    await unlink(path).catch(() => {})
    this.usedBytes = Math.max(0, this.usedBytes - size)
    this.init.onRemoved?.(cid)
  }
}

/** A disk that filled up below the storage limit as NoSpaceError (the sender should go elsewhere); any other error as it is. */
function diskFullAsNoSpace (err: unknown, size: number): unknown {
  return isDiskFull(err) ? new NoSpaceError(`the disk is full: ${size} bytes did not fit (${(err as { code?: string }).code})`) : err
}

/** The buffers a piece is made of. */
function partsOf (piece: Uint8Array | Uint8ArrayList): Uint8Array[] {
  return piece instanceof Uint8Array ? [piece] : [...piece]
}
