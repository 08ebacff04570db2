import { lstat, readdir, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { Uint8ArrayList } from 'uint8arraylist'
import { cidOfParts } from '../chunking/index.js'
import { auditRoot } from '../chunking/merkle.js'
import { UnavailableError } from '../errors.js'
import { Semaphore } from '../util/concurrency.js'
import { throttled } from '../util/progress.js'
import { sealBlob } from './blobs.js'
import type { SealedBlob } from './blobs.js'
import { idText } from '../catalog/catalog.js'
import { fileBlobs } from './chunker.js'
import { encodeTree } from './trees.js'
import { Manifest, Node } from '../catalog/pb/snapshot.js'
import type { BigIntStats } from 'node:fs'
import type { BlobKind, Catalog, PackKind, PackRecord } from '../catalog/catalog.js'
import type { ChunkingInit } from './chunker.js'
import type { Excluder } from './exclude.js'
import type { PendingPut } from '../catalog/journal.js'
import type { FinishedPack } from './packer.js'
import type { Trees } from './trees.js'
import type { BlobRef } from '../catalog/pb/snapshot.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { CompressionMode } from '../chunking/compress.js'
import type { BackpackPeers } from '../replication/peers.js'
import type { Placement, PlacementSession } from '../replication/placement.js'
import { Packer } from './packer.js'
import type { ProgressFn } from '../util/progress.js'
import type { BlobWorkers } from '../workers/index.js'

const log = logger('backpack:archiver')

/** Files read and packed at once. */
export const FILES_IN_FLIGHT = 32
/** Of those, files cut by the chunker (larger than its smallest chunk): each reads through windows of several MiB */
export const LARGE_FILES_IN_FLIGHT = 2
/**
 * What audits check a new chunk against: the root over its bytes, and its
 * holders as proven now (each just took the bytes and checked them).
 */
function audited (parts: Uint8Array[], holders: string[]): Pick<PackRecord, 'root' | 'proven'> {
  const now = Date.now()
  return { root: auditRoot(parts), proven: Object.fromEntries(holders.map(h => [h, now])) }
}

/** Directory entries whose lstat runs at once. */
const LSTAT_BATCH = 64
/** Tree index entries per index chunk (each about 60 bytes) */
const INDEX_ENTRIES_PER_CHUNK = 16_384

export interface ArchiverComponents {
  cipher: DataCipher
  catalog: Catalog
  trees: Trees
  peers: BackpackPeers
  placement: Placement
  selfId: string
  /** Reads and seals small files off the main thread */
  workers: Pick<BlobWorkers, 'sealFile'>
}

export interface ArchiverInit {
  replicas: number
  chunking: ChunkingInit
  packBytes: number
  compression: CompressionMode
  chunksInFlight: number
  excluder: Excluder
  /** The put's journal: where each chunk went, for cleaning up if it fails */
  pending: PendingPut
  session: PlacementSession
  signal?: AbortSignal
  onProgress?: ProgressFn
  /** A line for the user: a skipped special file, an unreadable one, a file changed while read */
  onWarning: (line: string) => void
}

export interface PutCounts {
  files: number
  dirs: number
  new: number
  changed: number
  unchanged: number
  /** Bytes of the files in the snapshot */
  size: number
  /** Bytes of new chunks stored (one copy) */
  added: number
}


/** A given path, its name in the snapshot, and what lstat said of it */
export interface Source { path: string, name: string, st: BigIntStats }

/** A node under way (not a bare promise, which `await` would flatten). */
interface Pending { node: Promise<Node | undefined> }

/**
 * One put: walks the sources depth first, compares each entry with the
 * parent snapshot's, reads only new and changed files, cuts them into
 * blobs, packs and places what this owner has not stored yet, and stores
 * every directory listing as tree blobs of its own. Walking runs ahead of
 * reading by at most FILES_IN_FLIGHT files; a directory's listing is stored
 * once its entries are.
 */
export class Archiver {
  readonly counts: PutCounts = { files: 0, dirs: 0, new: 0, changed: 0, unchanged: 0, size: 0, added: 0 }
  /** Every chunk the snapshot needs */
  readonly needs = new Set<string>()
  /** Lowest copy count of a chunk placed by this put */
  lowest = Infinity
  private readonly data: Packer
  private readonly treePacker: Packer
  private readonly slots = new Semaphore(FILES_IN_FLIGHT)
  private readonly large = new Semaphore(LARGE_FILES_IN_FLIGHT)
  /** Blobs of this put not yet in the catalog */
  private readonly pending = new Map<string, Promise<BlobRef>>()
  /** The new tree packs' entries, for the index chunks */
  private readonly newTreePacks: Array<{ cid: string, refs: BlobRef[] }> = []
  private readonly indexOf = new Map<string, string | undefined>()
  private bytesRead = 0
  /** Files being read: the data packs are closed once all are */
  private readonly reading = new Set<Promise<void>>()
  private readonly progress: (force?: boolean) => void

  constructor (private readonly components: ArchiverComponents, private readonly init: ArchiverInit) {
    const upload = async (pack: FinishedPack): Promise<void> => { await this.storePack(pack) }
    this.data = new Packer({ kind: 'data', targetBytes: init.packBytes, inFlight: init.chunksInFlight, upload })
    this.treePacker = new Packer({ kind: 'tree', targetBytes: init.packBytes, inFlight: init.chunksInFlight, upload })
    this.progress = throttled(() => { init.onProgress?.({ type: 'backpack:put:progress', ...this.counts, bytes: this.bytesRead }) })
  }

  /** Back up the sources (sorted by name) as the root listing; its tree blob ids. */
  async run (sources: Source[], parentRoot: Node[] | undefined): Promise<Uint8Array[]> {
    const parents = new Map((parentRoot ?? []).map(n => [n.name, n]))
    const children: Array<Promise<Node | undefined>> = []
    for (const source of sources) {
      children.push((await this.entry(source.path, source.name, source.name, source.st, parents.get(source.name))).node)
    }
    // every file read: close the last data pack, so that every file's
    // blobs have their place and the listings can be stored
    await Promise.all([...this.reading])
    await this.data.flush(this.init.signal)
    const ids = await this.storeListing(children)
    await this.treePacker.flush(this.init.signal)
    await this.storeIndex()
    this.progress(true)
    return ids
  }

  /** One entry of a directory: its node's promise, once it is under way. */
  private async entry (path: string, name: string, rel: string, st: BigIntStats, parent: Node | undefined): Promise<Pending> {
    this.init.signal?.throwIfAborted()
    if (st.isDirectory()) return await this.directory(path, name, rel, st, parent)
    if (st.isSymbolicLink()) {
      const target = await readlink(path).catch(err => { this.init.onWarning(`cannot read the link ${path}: ${err.code ?? err.message} (not in the snapshot)`) })
      if (target == null) return { node: Promise.resolve(undefined) }
      this.counts.files++
      return { node: Promise.resolve({ ...meta(name, Node.Type.SYMLINK, st), target }) }
    }
    if (st.isFile()) {
      await this.slots.acquire(this.init.signal)
      let read!: () => void
      const reading = new Promise<void>(resolve => { read = resolve })
      this.reading.add(reading)
      const done = this.file(path, name, st, parent, () => { this.reading.delete(reading); read() })
      done.catch(() => {})
      return { node: done }
    }
    this.init.onWarning(`skipped ${path}: ${specialKind(st)}`)
    return { node: Promise.resolve(undefined) }
  }

  private async directory (path: string, name: string, rel: string, st: BigIntStats, parent: Node | undefined): Promise<Pending> {
    let names: string[]
    try {
      names = (await readdir(path)).sort()
    } catch (err: any) {
      this.init.onWarning(`cannot read the directory ${path}: ${err.code ?? err.message} (not in the snapshot)`)
      return { node: Promise.resolve(undefined) }
    }
    this.counts.dirs++
    const parentListing = parent?.type === Node.Type.DIR && parent.subtree.length > 0
      ? await this.components.trees.listing(parent.subtree, this.init.signal).catch(err => {
        log('the parent listing of %s is unavailable (%s): reading everything below it', path, err.message)
        return []
      })
      : []
    const parents = new Map(parentListing.map(n => [n.name, n]))
    const children: Array<Promise<Node | undefined>> = []
    for (let i = 0; i < names.length; i += LSTAT_BATCH) {
      const batch = names.slice(i, i + LSTAT_BATCH)
      const stats = await Promise.all(batch.map(async n => lstat(join(path, n), { bigint: true }).catch(err => err as NodeJS.ErrnoException)))
      for (const [j, child] of batch.entries()) {
        const info = stats[j]
        const childPath = join(path, child)
        if (info instanceof Error) {
          // gone since readdir: not there, as far as this snapshot knows
          if (info.code !== 'ENOENT') this.init.onWarning(`cannot read ${childPath}: ${info.code ?? info.message} (not in the snapshot)`)
          continue
        }
        const childRel = `${rel}/${child}`
        if (this.init.excluder.excludes(childRel, info.isDirectory())) continue
        children.push((await this.entry(childPath, child, childRel, info, parents.get(child))).node)
      }
    }
    const node = meta(name, Node.Type.DIR, st)
    const done = this.storeListing(children).then(subtree => ({ ...node, subtree }))
    done.catch(() => {})
    return { node: done }
  }

  /** A file's node: the parent's content when size, mtime, ctime and inode are the same, else read. Holds a slot until read. */
  private async file (path: string, name: string, st: BigIntStats, parent: Node | undefined, onRead: () => void): Promise<Node | undefined> {
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.slots.release()
      onRead()
    }
    try {
      const node = meta(name, Node.Type.FILE, st)
      this.counts.files++
      if (parent?.type === Node.Type.FILE && parent.size === st.size && parent.mtimeNs === st.mtimeNs && parent.ctimeNs === st.ctimeNs && parent.inode === st.ino) {
        this.counts.unchanged++
        this.counts.size += Number(st.size)
        for (const ref of parent.content) this.needs.add(CID.decode(ref.pack).toString())
        this.progress()
        return { ...node, content: parent.content }
      }
      const refs: Array<Promise<BlobRef>> = []
      let read = 0
      const isLarge = Number(st.size) > this.init.chunking.minSize
      if (isLarge) await this.large.acquire(this.init.signal)
      try {
        if (!isLarge) {
          // read whole, named, compressed and sealed by a blob worker
          const { read: n, blob } = await this.components.workers.sealFile({ path, compression: this.init.compression }, Number(st.size))
          this.init.signal?.throwIfAborted()
          read = n
          this.bytesRead += n
          if (blob != null) {
            const sealed: SealedBlob = { id: blob.id, parts: [blob.sealed], length: blob.sealed.byteLength, plainLength: blob.plainLength, compressed: blob.compressed }
            refs.push((await this.placeBlob('data', blob.id, () => sealed)).ref)
          }
          this.progress()
        } else {
          for await (const plain of fileBlobs(path, Number(st.size), this.init.chunking, this.init.signal)) {
            read += plain.byteLength
            this.bytesRead += plain.byteLength
            refs.push((await this.blob('data', plain)).ref)
            this.progress()
          }
        }
      } catch (err: any) {
        this.init.signal?.throwIfAborted()
        if (err.code == null) throw err
        this.init.onWarning(`cannot read ${path}: ${err.code} (not in the snapshot)`)
        this.counts.files--
        return undefined
      } finally {
        if (isLarge) this.large.release()
      }
      if (parent == null) this.counts.new++
      else this.counts.changed++
      this.counts.size += read
      // what was read is what the snapshot holds; a file written to meanwhile
      // is said so (a small file is read in one call: its size tells)
      const after = isLarge ? await lstat(path, { bigint: true }).catch(() => undefined) : st
      if (read !== Number(st.size) || after?.mtimeNs !== st.mtimeNs || after?.size !== st.size) {
        this.init.onWarning(`${path} changed while it was read: the snapshot holds the ${read} bytes read`)
      }
      release()
      const content = await Promise.all(refs)
      for (const ref of content) this.needs.add(CID.decode(ref.pack).toString())
      return { ...node, size: BigInt(read), content }
    } finally {
      release()
    }
  }

  /**
   * A blob's place: where this owner stored it already (`stored`: this put
   * or any before), else packed anew. Resolves once the blob is taken;
   * `ref` may follow later, when its pack is closed.
   */
  private async blob (kind: BlobKind, plain: Uint8Array): Promise<{ id: Uint8Array, ref: Promise<BlobRef>, stored?: BlobRef }> {
    const { cipher } = this.components
    const id = cipher.blobId(plain)
    return this.placeBlob(kind, id, () => sealBlob(cipher, id, plain, this.init.compression), kind === 'tree' ? plain : undefined)
  }

  /** `blob` for a blob named `id`, sealed by `seal` when it must be stored (`plain` kept for a tree's cache). */
  private async placeBlob (kind: BlobKind, id: Uint8Array, seal: () => SealedBlob, plain?: Uint8Array): Promise<{ id: Uint8Array, ref: Promise<BlobRef>, stored?: BlobRef }> {
    const { catalog } = this.components
    const key = `${kind}/${idText(id)}`
    const known = this.pending.get(key)
    if (known != null) return { id, ref: known }
    const stored = await catalog.blob(kind, id)
    if (stored != null) return { id, ref: Promise.resolve(stored), stored }
    // looked up again: another file of this put may have added it meanwhile
    const again = this.pending.get(key)
    if (again != null) return { id, ref: again }
    const packer = kind === 'data' ? this.data : this.treePacker
    const taken = packer.add(seal(), plain, this.init.signal)
    const ref = taken.then(async ({ ref }) => ref)
    ref.catch(() => {})
    this.pending.set(key, ref)
    await taken
    return { id, ref }
  }

  /**
   * Store a directory listing once its entries are known; its tree blob
   * ids (known at once: the packs of new listings are closed at the end).
   */
  private async storeListing (children: Array<Promise<Node | undefined>>): Promise<Uint8Array[]> {
    const nodes = (await Promise.all(children)).filter((n): n is Node => n != null)
    const ids: Uint8Array[] = []
    for (const part of encodeTree(nodes)) {
      const { id, stored } = await this.blob('tree', part)
      ids.push(id)
      if (stored != null) await this.needTree(stored)
    }
    return ids
  }

  /** A tree blob's pack, and the index chunk that lists it, are needed by the snapshot. */
  private async needTree (ref: BlobRef): Promise<void> {
    const pack = CID.decode(ref.pack).toString()
    this.needs.add(pack)
    if (!this.indexOf.has(pack)) this.indexOf.set(pack, (await this.components.catalog.pack(pack))?.index)
    const index = this.indexOf.get(pack)
    if (index != null) this.needs.add(index)
  }

  /** Place a finished pack and record it with its blobs. */
  private async storePack (pack: FinishedPack): Promise<void> {
    const holders = await this.place(pack.cid, pack.parts, false)
    const { catalog } = this.components
    const batch = catalog.batch()
    const record: PackRecord = { cid: pack.cid.toString(), kind: pack.kind, size: pack.size, replicas: this.init.replicas, holders, ...audited(pack.parts, holders) }
    catalog.putPack(batch, record)
    catalog.putPackBlobs(batch, record.cid, pack.blobs.map(b => b.id))
    for (const blob of pack.blobs) {
      catalog.putBlob(batch, pack.kind, blob.ref)
      if (blob.plain != null) catalog.cacheTree(batch, blob.id, blob.plain)
    }
    await batch.commit()
    for (const blob of pack.blobs) this.pending.delete(`${pack.kind}/${idText(blob.id)}`)
    if (pack.kind === 'tree') this.newTreePacks.push({ cid: record.cid, refs: pack.blobs.map(b => b.ref) })
    this.needs.add(record.cid)
    this.counts.added += pack.size
  }

  /**
   * The tree index of this put's new tree packs, as index chunks in the
   * network (a recovered node finds its listings through them); each tree
   * pack's record names its index chunk.
   */
  private async storeIndex (): Promise<void> {
    const { catalog } = this.components
    for (let i = 0; i < this.newTreePacks.length;) {
      const group: typeof this.newTreePacks = []
      let entries = 0
      while (i < this.newTreePacks.length && (group.length === 0 || entries + this.newTreePacks[i].refs.length <= INDEX_ENTRIES_PER_CHUNK)) {
        entries += this.newTreePacks[i].refs.length
        group.push(this.newTreePacks[i++])
      }
      const plain = Manifest.encode({
        version: MANIFEST_VERSION,
        index: {
          packs: group.map(p => ({
            cid: CID.parse(p.cid).bytes,
            entries: p.refs.map(r => ({ id: r.id, offset: r.offset, length: r.length, plainLength: r.plainLength, compressed: r.compressed }))
          }))
        }
      })
      const { cid } = await this.storeManifest(plain, 'index', group.map(p => p.cid))
      for (const p of group) {
        await catalog.updatePack(p.cid, r => ({ ...r, index: cid }))
        this.indexOf.set(p.cid, cid)
      }
      this.needs.add(cid)
    }
  }

  /** Seal and place a manifest chunk (an index or a snapshot) and record it. */
  async storeManifest (plain: Uint8Array, kind: PackKind, covers?: string[]): Promise<{ cid: string, holders: string[] }> {
    const parts = this.components.cipher.sealRandom(plain)
    const cid = cidOfParts(parts)
    const holders = await this.place(cid, parts, true)
    const size = parts.reduce((n, p) => n + p.byteLength, 0)
    const record: PackRecord = { cid: cid.toString(), kind, size, replicas: this.init.replicas, holders, ...(covers != null ? { covers } : {}), ...audited(parts, holders) }
    await this.components.catalog.putPackNow(record)
    this.counts.added += size
    return { cid: record.cid, holders }
  }

  /** Place a chunk on `replicas` peers, journaled before and after; throws when no peer took it. */
  private async place (cid: CID, parts: Uint8Array[], manifest: boolean): Promise<string[]> {
    const { peers, placement, selfId } = this.components
    const { pending, session, signal } = this.init
    const ranked = peers.rank(cid, new Set([selfId]))
    await pending.record(cid.toString(), ranked.map(String))
    const holders = await placement.place(cid, new Uint8ArrayList(...parts), this.init.replicas, session, { ranked, signal, manifest })
    if (holders.length === 0) throw new UnavailableError(noPeers(peers.list().length, session))
    await pending.record(cid.toString(), holders)
    this.lowest = Math.min(this.lowest, holders.length)
    return holders
  }
}

export const MANIFEST_VERSION = 2

/** Why no peer took a chunk, in one line. */
export function noPeers (reachable: number, session: PlacementSession): string {
  return `no peer could take a chunk: ${reachable} peers reachable${peerTrouble(session)}`
}

/** The peers a put found full or failing, as the end of a line: `, 1 without space, 2 failing`. */
export function peerTrouble (session: PlacementSession): string {
  return (session.full.size > 0 ? `, ${session.full.size} without space` : '') +
    (session.failed.size > 0 ? `, ${session.failed.size} failing` : '')
}

function meta (name: string, type: Node.Type, st: BigIntStats): Node {
  return {
    name,
    type,
    mode: Number(st.mode & 0o7777n),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    inode: st.ino,
    size: type === Node.Type.FILE ? st.size : 0n,
    uid: Number(st.uid),
    gid: Number(st.gid),
    target: '',
    content: [],
    subtree: []
  }
}

function specialKind (st: BigIntStats): string {
  if (st.isSocket()) return 'a socket'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isBlockDevice()) return 'a block device'
  if (st.isCharacterDevice()) return 'a character device'
  return 'not a file, directory or symbolic link'
}
