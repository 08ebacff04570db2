import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { chmod, chown, lchown, lstat, lutimes, mkdir, open, rename, rm, symlink, unlink, utimes } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { BadHashError, FileExistsError, InvalidInputError, NoSpaceError, isDiskFull } from '../errors.js'
import { cidChecker } from '../chunking/index.js'
import { LocalFailure } from '../replication/fetcher.js'
import { Budget, Semaphore, forEachConcurrent } from '../util/concurrency.js'
import { PendingWrites, writeAll } from '../util/fs.js'
import { throttled } from '../util/progress.js'
import { openBlob, sealedBlob } from './blobs.js'
import { badNodeName } from './trees.js'
import { Node } from '../catalog/pb/snapshot.js'
import type { BlobRef } from '../catalog/pb/snapshot.js'
import type { Catalog } from '../catalog/catalog.js'
import type { Trees } from './trees.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { RestoreJournal } from '../catalog/journal.js'
import type { ProgressFn } from '../util/progress.js'
import type { ChunkSink, FetchOptions } from '../replication/fetcher.js'
import type { PeerId } from '@libp2p/interface'
import type { FileHandle } from 'node:fs/promises'
import type { BlobWorkers } from '../workers/index.js'

const log = logger('backpack:restore')

/** Files larger than a worker takes written at once. */
export const RESTORE_FILES_IN_FLIGHT = 16
/** Packs of several blobs kept in memory while a restore uses them (small files share packs). */
export const PACK_CACHE_BYTES = 32 * 1024 * 1024
/** A file of at most this many sealed bytes is written whole by a blob worker */
export const WORKER_FILE_BYTES = 1024 * 1024
/**
 * Sealed bytes of small files in flight (each counted as at least
 * SMALL_FILE_WEIGHT): enough files that the packs of the next few
 * megabytes are fetched while those before are written, as a pack holds
 * hundreds of small files.
 */
export const SMALL_FILES_BYTES = 16 * 1024 * 1024
const SMALL_FILE_WEIGHT = 4096

/** Where a pack is fetched from: its recorded holders, which to ask first (`spread`) */
export type PackFetch = Pick<FetchOptions<unknown>, 'holders' | 'spread' | 'signal'>

export interface RestorerComponents {
  cipher: DataCipher
  catalog: Catalog
  trees: Trees
  restores: RestoreJournal
  /** A pack's bytes from the network, checked against its CID */
  fetchPack: (cid: CID, options: PackFetch) => Promise<Uint8Array>
  /** A pack streamed from the network into a sink made for each peer tried */
  streamPack: (cid: CID, options: PackFetch & { sink: (peer: PeerId) => ChunkSink }) => Promise<void>
  /** Writes small files off the main thread */
  workers: Pick<BlobWorkers, 'restoreFile'>
}

export interface RestorerInit {
  force: boolean
  chunksInFlight: number
  signal?: AbortSignal
  onProgress?: ProgressFn
  /** Totals, when known (a whole snapshot) */
  totals?: { files: number, bytes: number }
}

export interface RestoreCounts { files: number, size: number }

/**
 * Restores nodes of a snapshot below a target, exactly: files (written
 * under a temporary name, renamed when complete), directories with their
 * modes and times (set once their entries are in), symbolic links as links,
 * owners when root. Small files are written whole by blob workers (their
 * sealed blobs copied out of the packs, many files at once so that the next
 * packs are fetched meanwhile); larger ones here. Never writes outside the target: every name is one
 * plain path component, and an existing directory is entered only when it
 * is a real one, never through a link. Without `force` nothing existing is
 * replaced.
 */
export class Restorer {
  readonly counts: RestoreCounts = { files: 0, size: 0 }
  private readonly suffix = `.backpack-${randomBytes(4).toString('hex')}`
  private readonly files = new Semaphore(RESTORE_FILES_IN_FLIGHT)
  private readonly smallFiles = new Budget(SMALL_FILES_BYTES)
  private readonly writes = new Set<Promise<void>>()
  private readonly dirs: Array<{ path: string, node: Node }> = []
  /** Directories this restore made: nothing was in them to check for */
  private readonly made = new Set<string>()
  private readonly cache: PackCache
  /** Blobs fetched, opened and written at once, whatever the number of files being written */
  private readonly blobs: Semaphore
  private failure?: { err: unknown }
  private readonly root = process.getuid?.() === 0
  /** What a file this process makes belongs to already: no chown needed */
  private readonly self = { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 }
  private readonly progress: (force?: boolean) => void

  constructor (private readonly components: RestorerComponents, private readonly init: RestorerInit) {
    this.cache = new PackCache(components, init)
    this.blobs = new Semaphore(init.chunksInFlight)
    this.progress = throttled(() => {
      init.onProgress?.({ type: 'backpack:get:progress', files: this.counts.files, bytes: this.counts.size, totalFiles: init.totals?.files, totalBytes: init.totals?.bytes })
    })
  }

  /** Restore `nodes` as the entries of directory `dir` (created when missing). */
  async restore (nodes: Node[], dir: string): Promise<RestoreCounts> {
    if (!this.init.force) for (const node of nodes) await this.checkFree(node, join(dir, node.name))
    await mkdir(dir, { recursive: true })
    const forget = await this.components.restores.begin(JSON.stringify({ root: dir, suffix: this.suffix })).catch(err => {
      log('restoring into %s without a record of its temporary files: %s', dir, err.message)
      return async () => {}
    })
    try {
      for (const node of nodes) await this.node(node, join(dir, node.name))
      while (this.writes.size > 0) await Promise.allSettled([...this.writes])
      if (this.failure != null) throw this.failure.err
      // deepest first: a directory's time is set after its entries are in
      for (const { path, node } of this.dirs.reverse()) await this.setMeta(path, node)
      this.progress(true)
      return this.counts
    } catch (err) {
      if (isDiskFull(err)) throw new NoSpaceError(`no space left on the disk of ${dir}: the restore stopped`)
      throw err
    } finally {
      await forget().catch(() => {})
    }
  }

  /** Refuse (FileExistsError) when restoring `node` at `path` would replace something. */
  private async checkFree (node: Node, path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined)
    if (st == null) return
    if (node.type !== Node.Type.DIR || !st.isDirectory()) throw new FileExistsError(`${path} exists: pass --force to overwrite it`)
    for (const child of await this.components.trees.listing(node.subtree, this.init.signal)) {
      checkName(child.name)
      await this.checkFree(child, join(path, child.name))
    }
  }

  private async node (node: Node, path: string): Promise<void> {
    this.init.signal?.throwIfAborted()
    if (this.failure != null) throw this.failure.err
    checkName(node.name)
    if (node.type === Node.Type.DIR) {
      await this.directory(path)
      this.dirs.push({ path, node })
      for (const child of await this.components.trees.listing(node.subtree, this.init.signal)) await this.node(child, join(path, child.name))
      return
    }
    if (node.type === Node.Type.SYMLINK) {
      if (!this.made.has(dirname(path))) await this.clear(path)
      await symlink(node.target, path)
      if (this.root) await lchown(path, node.uid, node.gid).catch(() => {})
      const time = nsToDate(node.mtimeNs)
      await lutimes(path, time, time)
      this.counts.files++
      return
    }
    const sealed = node.content.reduce((sum, ref) => sum + ref.length, 0)
    const tmp = join(dirname(path), `.${basename(path)}${this.suffix}`)
    let write: Promise<void>
    if (sealed <= WORKER_FILE_BYTES) {
      const weight = Math.max(SMALL_FILE_WEIGHT, sealed)
      await this.smallFiles.acquire(weight, this.init.signal)
      write = this.smallFile(node, path, tmp)
        .catch(err => { this.failure ??= { err } })
        .finally(() => { this.smallFiles.release(weight); this.writes.delete(write) })
    } else {
      await this.files.acquire(this.init.signal)
      write = this.file(node, path, tmp)
        .catch(err => { this.failure ??= { err } })
        .finally(() => { this.files.release(); this.writes.delete(write) })
    }
    this.writes.add(write)
  }

  /** A real directory at `path`: made, or an existing one (never through a link). */
  private async directory (path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined)
    if (st?.isDirectory() === true) return
    if (st != null) await this.clear(path)
    await mkdir(path, { mode: 0o700 })
    this.made.add(path)
  }

  /** Make room at `path` (only reached with --force, or where nothing was). */
  private async clear (path: string): Promise<void> {
    const st = await lstat(path).catch(() => undefined)
    if (st == null) return
    if (!this.init.force) throw new FileExistsError(`${path} exists: pass --force to overwrite it`)
    await rm(path, { recursive: true, force: true })
  }

  /** Write a file under a temporary name (`tmp`) beside it, then rename it into place. */
  private async file (node: Node, path: string, tmp: string): Promise<void> {
    const exact = exactMode(node.mode)
    const handle = await open(tmp, 'wx', exact ? node.mode : 0o600)
    let closed = false
    try {
      let offset = 0
      const offsets = node.content.map(ref => { const at = offset; offset += ref.plainLength; return at })
      await forEachConcurrent(node.content.keys(), this.init.chunksInFlight, async i => {
        await this.blobs.run(async () => {
          const ref = node.content[i]
          if (await this.stream(ref, handle, offsets[i], i)) {
            this.counts.size += ref.plainLength
            return
          }
          const plain = await this.cache.blob(ref, i, this.init.signal)
          await writeAll(handle, [plain], offsets[i])
          this.counts.size += plain.byteLength
        }, this.init.signal)
        this.progress()
      }, this.init.signal)
      if (this.root && (node.uid !== this.self.uid || node.gid !== this.self.gid)) await handle.chown(node.uid, node.gid).catch(() => {})
      if (!exact) await handle.chmod(node.mode)
      const time = nsToDate(node.mtimeNs)
      await handle.utimes(time, time)
      closed = true
      await handle.close()
      const st = this.made.has(dirname(path)) ? undefined : await lstat(path).catch(() => undefined)
      if (st != null) {
        if (!this.init.force) throw new FileExistsError(`${path} exists: pass --force to overwrite it`)
        if (st.isDirectory()) await rm(path, { recursive: true, force: true })
      }
      await rename(tmp, path)
      this.counts.files++
      this.progress()
    } catch (err) {
      if (!closed) await handle.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw err
    }
  }

  /** A small file: its sealed blobs taken from their packs, opened and written whole by a blob worker. */
  private async smallFile (node: Node, path: string, tmp: string): Promise<void> {
    const pieces = await Promise.all(node.content.map(async (ref, i) => ({
      sealed: await this.cache.sealed(ref, i, this.init.signal),
      compressed: ref.compressed,
      plainLength: ref.plainLength
    })))
    this.init.signal?.throwIfAborted()
    const size = await this.components.workers.restoreFile({
      tmp,
      path,
      mode: node.mode,
      exact: exactMode(node.mode),
      owner: this.root && (node.uid !== this.self.uid || node.gid !== this.self.gid) ? { uid: node.uid, gid: node.gid } : undefined,
      time: nsToDate(node.mtimeNs),
      existing: this.made.has(dirname(path)) ? 'none' : this.init.force ? 'replace' : 'refuse',
      pieces
    })
    this.counts.size += size
    this.counts.files++
    this.progress()
  }

  /**
   * A blob alone in its pack and not compressed (a large file's, most
   * often) is streamed into the file: checked against the pack's CID,
   * opened and written piece by piece as it arrives, never held whole. A
   * bad copy's bytes are overwritten by the next holder's. False when the
   * blob is not one of those.
   */
  private async stream (ref: BlobRef, handle: FileHandle, offset: number, spread: number): Promise<boolean> {
    if (ref.compressed || ref.offset !== 0) return false
    const cid = CID.decode(ref.pack)
    const record = await this.components.catalog.pack(cid.toString())
    if (record?.size !== ref.length) return false
    const { cipher } = this.components
    await this.components.streamPack(cid, { holders: record.holders, spread, signal: this.init.signal, sink: peer => {
      const opener = cipher.opener(ref.length)
      const hash = cidChecker(cid)
      const writes = new PendingWrites()
      let position = offset
      return {
        start: length => {
          if (length !== ref.length) throw new BadHashError(`peer ${peer} sent ${length} bytes for a chunk of ${ref.length}`)
        },
        piece: pieces => {
          for (const piece of pieces) {
            hash.update(piece)
            const plain = opener.update(piece)
            if (plain.byteLength === 0) continue
            writes.add(writeAll(handle, [plain], position).catch(err => { throw new LocalFailure(err) }))
            position += plain.byteLength
          }
        },
        settled: async () => { await writes.settled() },
        done: async () => {
          await writes.all()
          if (!hash.matches()) throw new BadHashError(`peer ${peer} sent bytes that do not match ${cid}`)
          opener.final()
        }
      }
    } })
    return true
  }

  private async setMeta (path: string, node: Node): Promise<void> {
    if (this.root && (node.uid !== this.self.uid || node.gid !== this.self.gid)) await chown(path, node.uid, node.gid).catch(() => {})
    await chmod(path, node.mode)
    const time = nsToDate(node.mtimeNs)
    await utimes(path, time, time)
  }
}

/**
 * This process's umask, read once (Linux: /proc/self/status; Node has no
 * reader that does not set it), or undefined where it cannot be read.
 */
const UMASK: number | undefined = (() => {
  try {
    const match = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return match != null ? parseInt(match[1], 8) : undefined
  } catch {
    return undefined
  }
})()

/** Is a file made with `mode` made with all of it (the umask leaves it whole)? Then no chmod is needed. */
function exactMode (mode: number): boolean {
  return (mode & ~0o777) === 0 && UMASK != null && (mode & UMASK) === 0
}

/** A name from a snapshot must be one plain path component. */
function checkName (name: string): void {
  const why = badNodeName(name)
  if (why != null) throw new InvalidInputError(`refusing to restore ${JSON.stringify(name)}: ${why}`)
}

/** A time in ns as the Date-or-seconds that utimes takes, to the microsecond. */
function nsToDate (ns: bigint): number {
  return Number(ns / 1000n) / 1e6
}

/**
 * The packs a restore reads: each fetched once while in use. A pack of many
 * blobs (small files) is kept, up to PACK_CACHE_BYTES, as the files after
 * it likely use it too; a pack of one blob is used once.
 */
class PackCache {
  private readonly kept = new Map<string, Uint8Array>()
  private keptBytes = 0
  private readonly fetching = new Map<string, Promise<Uint8Array>>()
  /** Packs fetched at once */
  private readonly fetches: Semaphore

  constructor (private readonly components: RestorerComponents, init: RestorerInit) {
    this.fetches = new Semaphore(init.chunksInFlight)
  }

  async blob (ref: BlobRef, spread: number, signal?: AbortSignal): Promise<Uint8Array> {
    const cid = CID.decode(ref.pack)
    const pack = await this.pack(cid, ref, spread, signal)
    return openBlob(this.components.cipher, pack, ref)
  }

  /** The sealed bytes of a blob, copied out of its pack into a buffer of their own (to be moved to a worker). */
  async sealed (ref: BlobRef, spread: number, signal?: AbortSignal): Promise<Uint8Array> {
    return new Uint8Array(sealedBlob(await this.pack(CID.decode(ref.pack), ref, spread, signal), ref))
  }

  private async pack (cid: CID, ref: BlobRef, spread: number, signal?: AbortSignal): Promise<Uint8Array> {
    const key = cid.toString()
    const kept = this.kept.get(key)
    if (kept != null) {
      // most recently used last
      this.kept.delete(key)
      this.kept.set(key, kept)
      return kept
    }
    let fetching = this.fetching.get(key)
    if (fetching == null) {
      fetching = (async () => {
        const record = await this.components.catalog.pack(key)
        const bytes = await this.fetches.run(async () => this.components.fetchPack(cid, { holders: record?.holders ?? [], spread, signal }), signal)
        if (bytes.byteLength > ref.length) this.keep(key, bytes)
        return bytes
      })().finally(() => { this.fetching.delete(key) })
      this.fetching.set(key, fetching)
    }
    return fetching
  }

  private keep (key: string, bytes: Uint8Array): void {
    this.kept.set(key, bytes)
    this.keptBytes += bytes.byteLength
    for (const [old, oldBytes] of this.kept) {
      if (this.keptBytes <= PACK_CACHE_BYTES) break
      this.kept.delete(old)
      this.keptBytes -= oldBytes.byteLength
    }
  }
}

