import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { BadHashError, NoSpaceError, NotFoundError, errorMessage, isDiskFull, isNoSpace } from '../errors.js'
import { cidChecker, matchesCid, parseChunkCid } from '../chunking/index.js'
import { delay } from '../util/concurrency.js'
import { PieceFile, pathExists } from '../util/fs.js'
import type { Datastore } from 'interface-datastore'
import type { Uint8ArrayList } from 'uint8arraylist'

const log = logger('backpack:store')

/** Datastore prefix of the holder records: `/backpack/held/<cid>/<owner>` → lease renewal time. */
const HELD_PREFIX = '/backpack/held'
/** Datastore prefix of the manifests among them: `/backpack/manifests/<owner>/<cid>` → empty. */
const MANIFESTS_PREFIX = '/backpack/manifests'

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
}

export interface HeldChunk {
  cid: CID
  owner: string
  /** Last lease renewal, ms since the epoch */
  renewed: number
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
  commit: (owner: string) => Promise<void>
  abort: () => Promise<void>
}

/** A copy written this long ago with no claim is left over from a crash (a put records its claim within moments). */
export const UNCLAIMED_GRACE_MS = 60 * 60_000

/**
 * The chunks this node holds for others: content-addressed files in sharded
 * folders, written to a temp file and renamed (a crash never leaves a partial
 * chunk under a real name), hashed on write and by `scrub()`, counted against
 * the storage limit. Each chunk records the peers it is held for.
 */
export class ChunkStore {
  private readonly components: ChunkStoreComponents
  private readonly init: ChunkStoreInit
  private usedBytes = 0
  private reservedBytes = 0
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

  private path (cid: CID): string {
    const text = cid.toString()
    return join(this.init.dir, text.slice(-2), text)
  }

  private heldKey (cid: CID, owner?: string): Key {
    return new Key(owner == null ? `${HELD_PREFIX}/${cid}` : `${HELD_PREFIX}/${cid}/${owner}`)
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
    return (await this.owners(cid)).length === 0
  }

  /**
   * Store a chunk for `owner`. Refuses bytes that do not match the CID
   * (BadHashError) and anything beyond the limit (NoSpaceError).
   */
  async put (cid: CID, bytes: Uint8Array, owner: string): Promise<void> {
    const writer = await this.writer(cid, bytes.byteLength)
    writer.write(bytes)
    await writer.commit(owner)
  }

  /**
   * Store a chunk of `size` bytes as they arrive: each piece is hashed and
   * written to a temporary file at once, and the copy is renamed into
   * place once all of it is on disk and matches the CID, so a chunk being
   * received is never in memory whole. NoSpaceError at once when `size` is
   * beyond the limit; at `commit`, BadHashError when the bytes do not match
   * the CID and NoSpaceError when the disk filled up. A chunk already held
   * takes no new space: its bytes are only kept (in memory) in case the
   * copy on disk turns out to be corrupt and is written again.
   */
  async writer (cid: CID, size: number): Promise<ChunkWriter> {
    const key = cid.toString()
    const checker = cidChecker(cid)
    let received = 0
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
        commit: async owner => {
          if (received !== size || !checker.matches()) throw new BadHashError(`bytes do not match ${cid}`)
          if (await this.holdsIntact(cid)) {
            await this.claim(cid, owner, false)
            return
          }
          // the copy on disk was corrupt, and is gone: these bytes replace it
          const again = await this.writer(cid, size)
          for (const part of kept) again.write(part)
          await again.commit(owner)
        },
        abort: async () => {}
      }
    }
    if (size > this.free) {
      throw new NoSpaceError(`no space for ${size} bytes: ${this.usedBytes} of ${this.limitBytes} used`)
    }
    this.reservedBytes += size
    this.receiving.set(key, (this.receiving.get(key) ?? 0) + 1)
    /** Give back the room and the receiving mark (once the writer ended) */
    const release = (): void => {
      this.reservedBytes -= size
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
      commit: async owner => {
        if (ended) throw new Error(`the write of ${cid} was aborted`)
        ended = true
        try {
          if (received !== size || !checker.matches()) throw new BadHashError(`bytes do not match ${cid}`)
          await file.finish(this.init.fsync !== false)
          const wrote = await this.place(cid, file.path, size)
          await this.claim(cid, owner, wrote)
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
  private async claim (cid: CID, owner: string, wrote: boolean): Promise<void> {
    try {
      await this.components.datastore.put(this.heldKey(cid, owner), encodeTime(Date.now()))
    } catch (err) {
      // no claim, no copy: nothing would ever delete it
      if (wrote && (await this.owners(cid)).length === 0) await this.removeFile(cid)
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

  /** The peers this chunk is held for. */
  async owners (cid: CID): Promise<HeldChunk[]> {
    const out: HeldChunk[] = []
    for await (const { key, value } of this.components.datastore.query({ prefix: this.heldKey(cid).toString() + '/' })) {
      out.push({ cid, owner: key.baseNamespace(), renewed: decodeTime(value) })
    }
    return out
  }

  /** Every holder record: one per chunk and owner. */
  async * held (): AsyncGenerator<HeldChunk> {
    for await (const { key, value } of this.components.datastore.query({ prefix: HELD_PREFIX + '/' })) {
      const parts = key.toString().split('/')
      const cid = CID.parse(parts[3])
      yield { cid, owner: parts[4], renewed: decodeTime(value) }
    }
  }

  /** Size in bytes of a held chunk, or undefined. */
  async size (cid: CID): Promise<number | undefined> {
    return stat(this.path(cid)).then(s => s.size, () => undefined)
  }

  /** Record that a chunk held for `owner` is one of its manifests. */
  async markManifest (cid: CID, owner: string): Promise<void> {
    await this.components.datastore.put(this.manifestKey(cid, owner), new Uint8Array(0))
  }

  /** Whether a chunk held for `owner` is one of its manifests. */
  async isManifest (cid: CID, owner: string): Promise<boolean> {
    return this.components.datastore.has(this.manifestKey(cid, owner))
  }

  /** The manifests held for `owner`. */
  async manifestsOf (owner: string, max = Infinity): Promise<CID[]> {
    const out: CID[] = []
    for await (const key of this.components.datastore.queryKeys({ prefix: `${MANIFESTS_PREFIX}/${owner}/` })) {
      if (out.length >= max) break
      const cid = CID.parse(key.baseNamespace())
      if (await this.components.datastore.has(this.heldKey(cid, owner))) out.push(cid)
    }
    return out
  }

  private manifestKey (cid: CID, owner: string): Key {
    return new Key(`${MANIFESTS_PREFIX}/${owner}/${cid}`)
  }

  /** Renew `owner`'s lease on a chunk; false when not held for it. */
  async renew (cid: CID, owner: string): Promise<boolean> {
    const key = this.heldKey(cid, owner)
    if (!(await this.components.datastore.has(key)) || !(await this.has(cid))) return false
    await this.components.datastore.put(key, encodeTime(Date.now()))
    return true
  }

  /**
   * Drop `owner`'s claim on a chunk; the file goes when nobody claims it.
   * Returns true when the owner had a claim.
   */
  async release (cid: CID, owner: string): Promise<boolean> {
    const key = this.heldKey(cid, owner)
    const had = await this.components.datastore.has(key)
    if (had) await this.components.datastore.delete(key)
    await this.components.datastore.delete(this.manifestKey(cid, owner))
    if ((await this.owners(cid)).length === 0) await this.removeFile(cid)
    return had
  }

  /** Remove a chunk and every claim on it. */
  async remove (cid: CID): Promise<void> {
    for (const { owner } of await this.owners(cid)) {
      await this.components.datastore.delete(this.heldKey(cid, owner))
      await this.components.datastore.delete(this.manifestKey(cid, owner))
    }
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

/** A time (ms since the epoch) as datastore value: decimal text. */
export function encodeTime (ms: number): Uint8Array {
  return new TextEncoder().encode(String(ms))
}

export function decodeTime (bytes: Uint8Array): number {
  return Number(new TextDecoder().decode(bytes))
}

/** A disk that filled up below the storage limit as NoSpaceError (the sender should go elsewhere); any other error as it is. */
function diskFullAsNoSpace (err: unknown, size: number): unknown {
  return isDiskFull(err) ? new NoSpaceError(`the disk is full: ${size} bytes did not fit (${(err as { code?: string }).code})`) : err
}

/** The buffers a piece is made of. */
function partsOf (piece: Uint8Array | Uint8ArrayList): Uint8Array[] {
  return piece instanceof Uint8Array ? [piece] : [...piece]
}
