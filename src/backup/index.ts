import { lstat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { logger } from '@libp2p/logger'
import { InvalidInputError, NotFoundError } from '../errors.js'
import { Mutex } from '../util/concurrency.js'
import { isDirectory } from '../util/fs.js'
import { newSession } from '../replication/placement.js'
import { Archiver, MANIFEST_VERSION, peerTrouble } from './archiver.js'
import type { Source } from './archiver.js'
import { idBytes, idText, oldestProof, sourcesKey } from '../catalog/catalog.js'
import { createExcluder } from './exclude.js'
import { Restorer } from './restorer.js'
import { Trees } from './trees.js'
import { Manifest, Node } from '../catalog/pb/snapshot.js'
import type { Catalog, SnapshotRecord } from '../catalog/catalog.js'
import type { ChunkingInit } from './chunker.js'
import type { PendingPut, PutJournal, RestoreJournal } from '../catalog/journal.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { CompressionMode } from '../chunking/compress.js'
import type { Deletes } from '../replication/deletes.js'
import type { Fetcher } from '../replication/fetcher.js'
import { streamChunk } from '../replication/fetcher.js'
import type { ChunkClient } from '../protocol/client.js'
import type { BackpackPeers } from '../replication/peers.js'
import type { Placement } from '../replication/placement.js'
import type { PeerId } from '@libp2p/interface'
import type { ProgressFn } from '../util/progress.js'
import type { BlobWorkers } from '../workers/index.js'

const log = logger('backpack:backups')

export type { ProgressFn } from '../util/progress.js'

export interface BackupComponents {
  peerId: PeerId
  cipher: DataCipher
  catalog: Catalog
  journal: PutJournal
  restores: RestoreJournal
  fetcher: Fetcher
  /** Streams large chunks of a restore straight into their file */
  client: Pick<ChunkClient, 'getInto'>
  peers: BackpackPeers
  placement: Placement
  deletes: Deletes
  /** Read and seal the small files of a put, write those of a restore, off the main thread */
  workers: Pick<BlobWorkers, 'restoreFile' | 'sealFile'>
}

export interface BackupInit {
  chunking: ChunkingInit
  packBytes: number
  compression: CompressionMode
  chunksInFlight: number
  /** Patterns excluded from every put (config `exclude`) */
  exclude: string[]
  /**
   * How old a copy's last proof of storage may be for it to count (the
   * audit interval and the time until the next repair pass audits it)
   * @default Infinity
   */
  proofMaxAgeMs?: number
}

/** A snapshot's health as the catalog knows it: the copies that count, and since when they are all proven. */
export interface Health {
  actual: number
  /** The oldest last proof among the counted copies (ms); undefined when one was never proven */
  proven?: number
}

export interface PutRequest {
  paths: string[]
  replicas: number
  name?: string
  exclude?: string[]
  signal?: AbortSignal
  onProgress?: ProgressFn
  onWarning?: (line: string) => void
}

export interface SnapshotSummary {
  id: string
  created: string
  sources: string[]
  files: number
  dirs: number
  size: number
  replicas: { desired: number, actual: number }
  /** When the copies counted were all last proven (ISO), null when one of them never was */
  proven?: string | null
}

export interface PutResult extends SnapshotSummary {
  new: number
  changed: number
  unchanged: number
  added: number
  /** Why actual < desired */
  degraded?: string
  warnings: string[]
}

export interface GetRequest {
  ref: string
  /** Absolute output path, as given (a trailing slash means "into this directory") */
  output?: string
  cwd: string
  force?: boolean
  signal?: AbortSignal
  onProgress?: ProgressFn
}

export interface GetResult { id: string, path: string, files: number, size: number }

export interface LsItem { path: string, type: 'file' | 'dir' | 'symlink', size: number, mode: number, mtime: string }

/** A place in a snapshot: its root (`node` undefined) or one node, with its path. */
interface Located { snapshot: SnapshotRecord, path: string, node?: Node }

/** `put`, `get` and `ls`: the owner's side of snapshots. Puts, `rm` and `forget` run one at a time. */
export class Backups {
  readonly trees: Trees
  /** Held by puts and deletes: a chunk a put reuses is never deleted under it */
  readonly lock = new Mutex()

  constructor (readonly components: BackupComponents, readonly init: BackupInit) {
    this.trees = new Trees({ catalog: components.catalog, cipher: components.cipher, fetchPack: async (cid, options) => components.fetcher.fetch(cid, options) })
  }

  async put (request: PutRequest): Promise<PutResult> {
    if (request.paths.length === 0) throw new InvalidInputError('nothing to back up: give one or more paths')
    if (request.name != null && request.paths.length > 1) throw new InvalidInputError('--name takes a single path')
    const sources = request.paths.map(p => resolve(p))
    const entries: Source[] = []
    for (const path of sources) {
      const name = request.name ?? basename(path)
      if (name === '') throw new InvalidInputError(`cannot back up ${path} as a whole: give the paths below it`)
      const st = await lstat(path, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
        throw new InvalidInputError(`cannot read ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.code ?? err.message}`)
      })
      if (!st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) throw new InvalidInputError(`cannot back up ${path}: not a file, directory or symbolic link`)
      entries.push({ path, name, st })
    }
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    for (let i = 1; i < entries.length; i++) {
      if (entries[i].name === entries[i - 1].name) throw new InvalidInputError(`${entries[i - 1].path} and ${entries[i].path} have the same name ${entries[i].name}: back them up in separate puts`)
    }
    const excluder = createExcluder([...this.init.exclude, ...(request.exclude ?? [])])
    return this.lock.run(async () => {
      const { catalog } = this.components
      await this.components.deletes.finishAbandoned()
      const key = sourcesKey(sources)
      const parent = (await catalog.snapshots()).find(s => sourcesKey(s.sources) === key)
      const parentRoot = parent != null
        ? await this.trees.listing(parent.tree.map(idBytes), request.signal).catch(err => {
          log('the parent snapshot %s cannot be read (%s): reading everything', parent.id, err.message)
          return undefined
        })
        : undefined
      const pending = this.components.journal.begin()
      try {
        return await this.store(request, sources, entries, excluder, parent, parentRoot, pending)
      } catch (err) {
        // what it stored goes again, unless a snapshot uses it
        await this.components.deletes.abandon(pending).catch(cleanup => { log('cleaning up a failed put failed: %s', cleanup.message) })
        throw err
      }
    })
  }

  private async store (request: PutRequest, sources: string[], entries: Source[], excluder: ReturnType<typeof createExcluder>, parent: SnapshotRecord | undefined, parentRoot: Node[] | undefined, pending: PendingPut): Promise<PutResult> {
    const { catalog, peers, placement, cipher } = this.components
    const warnings: string[] = []
    const session = newSession()
    const archiver = new Archiver({ cipher, catalog, trees: this.trees, peers, placement, selfId: this.components.peerId.toString(), workers: this.components.workers }, {
      replicas: request.replicas,
      chunking: this.init.chunking,
      packBytes: this.init.packBytes,
      compression: this.init.compression,
      chunksInFlight: this.init.chunksInFlight,
      excluder,
      pending,
      session,
      signal: request.signal,
      onProgress: request.onProgress,
      onWarning: line => {
        warnings.push(line)
        request.onWarning?.(line)
      }
    })
    const tree = await archiver.run(entries, parentRoot)
    const { counts } = archiver
    const created = Date.now()
    const snapshot = {
      created: BigInt(created),
      sources,
      tree,
      files: BigInt(counts.files),
      dirs: BigInt(counts.dirs),
      size: BigInt(counts.size),
      replicas: request.replicas,
      hostname: hostname(),
      parent: parent?.id ?? ''
    }
    const { cid: id } = await archiver.storeManifest(Manifest.encode({ version: MANIFEST_VERSION, snapshot }), 'snapshot')
    archiver.needs.add(id)
    const record: SnapshotRecord = {
      id,
      created,
      sources,
      tree: tree.map(idText),
      files: counts.files,
      dirs: counts.dirs,
      size: counts.size,
      replicas: request.replicas,
      hostname: snapshot.hostname,
      ...(parent != null ? { parent: parent.id } : {}),
      added: counts.added
    }
    const batch = catalog.batch()
    catalog.putSnapshot(batch, record, archiver.needs)
    // chunks reused from earlier snapshots now want this one's count, if higher
    for (const cid of archiver.needs) {
      const pack = await catalog.pack(cid)
      if (pack != null && pack.replicas < request.replicas) catalog.putPack(batch, { ...pack, replicas: request.replicas })
    }
    await batch.commit()
    await pending.end()
    const actual = (await this.health([record])).get(id)?.actual ?? 0
    log('snapshot %s: %d files (%d new, %d changed, %d unchanged), %d bytes added, %d/%d replicas', id, counts.files, counts.new, counts.changed, counts.unchanged, counts.added, actual, request.replicas)
    const result: PutResult = {
      ...summary(record, actual),
      new: counts.new,
      changed: counts.changed,
      unchanged: counts.unchanged,
      added: counts.added,
      warnings
    }
    if (actual < request.replicas) {
      const reachable = peers.list().length
      result.degraded = `snapshot ${id} has ${actual} of ${request.replicas} replicas: only ${reachable} peer${reachable === 1 ? '' : 's'} reachable${peerTrouble(session)}`
    }
    return result
  }

  /**
   * Each snapshot's actual replica count: the lowest, over the chunks it
   * needs, of their recorded holders that are connected now and whose copy
   * was proven within `proofMaxAgeMs` (a chunk known without its root, from
   * recovery, counts its holders' word); and the oldest proof among them.
   */
  async health (snapshots: SnapshotRecord[]): Promise<Map<string, Health>> {
    const { catalog, peers } = this.components
    const maxAge = this.init.proofMaxAgeMs ?? Infinity
    const now = Date.now()
    const live = new Map<string, Health>()
    for await (const pack of catalog.packs()) {
      const counted = pack.holders.filter(h => peers.isConnected(h) && (pack.root == null || now - (pack.proven?.[h] ?? 0) <= maxAge))
      live.set(pack.cid, { actual: counted.length, proven: oldestProof(pack, counted) })
    }
    const out = new Map<string, Health>()
    for (const snap of snapshots) {
      let lowest = Infinity
      let proven: number | undefined = Infinity
      for (const cid of await catalog.needs(snap.id)) {
        const h = live.get(cid)
        lowest = Math.min(lowest, h?.actual ?? 0)
        proven = h?.proven == null || proven == null ? undefined : Math.min(proven, h.proven)
      }
      out.set(snap.id, { actual: lowest === Infinity ? 0 : lowest, proven: proven === Infinity ? undefined : proven })
    }
    return out
  }

  /** Every snapshot, newest first, with its replica count and when its copies were last proven. */
  async list (): Promise<SnapshotSummary[]> {
    const snapshots = await this.components.catalog.snapshots()
    const health = await this.health(snapshots)
    return snapshots.map(s => {
      const h = health.get(s.id)
      return { ...summary(s, h?.actual ?? 0), proven: h?.actual != null && h.actual > 0 && h.proven != null ? new Date(h.proven).toISOString() : null }
    })
  }

  /**
   * A snapshot named by `latest`, its id or a unique prefix of 8 or more
   * characters; undefined when `text` names none.
   */
  async snapshot (text: string): Promise<SnapshotRecord | undefined> {
    const snapshots = await this.components.catalog.snapshots()
    if (text === 'latest') {
      if (snapshots.length === 0) throw new NotFoundError('there is no snapshot yet: make one with \'backpack put\'')
      return snapshots[0]
    }
    if (text.length < 8) return undefined
    const matches = snapshots.filter(s => s.id.startsWith(text))
    if (matches.length > 1) throw new InvalidInputError(`${text} is a prefix of ${matches.length} snapshots: give more of the id`)
    return matches[0]
  }

  /** A snapshot that must exist. */
  async mustSnapshot (text: string): Promise<SnapshotRecord> {
    const snap = await this.snapshot(text)
    if (snap == null) throw new NotFoundError(`no snapshot ${text}: 'backpack ls' lists them`)
    return snap
  }

  /** `SNAP[:PATH] | PATH` as the contract reads it. */
  async locate (arg: string, signal?: AbortSignal): Promise<Located> {
    const colon = arg.indexOf(':')
    const head = colon >= 0 ? arg.slice(0, colon) : arg
    const snapshot = await this.snapshot(head)
    if (snapshot != null) return this.find(snapshot, colon >= 0 ? arg.slice(colon + 1) : '', signal)
    // a PATH: the newest snapshot that holds it
    for (const snap of await this.components.catalog.snapshots()) {
      const found = await this.find(snap, arg, signal).catch(err => { if (err.name === 'NotFoundError') return undefined; throw err })
      if (found != null) return found
    }
    throw new NotFoundError(`no snapshot holds ${arg}: 'backpack ls' lists them`)
  }

  /** The node at `path` in a snapshot (its root for an empty path). */
  async find (snapshot: SnapshotRecord, path: string, signal?: AbortSignal): Promise<Located> {
    const parts = path.split('/').filter(p => p !== '' && p !== '.')
    let listing = await this.trees.listing(snapshot.tree.map(idBytes), signal)
    let node: Node | undefined
    for (const [i, part] of parts.entries()) {
      node = listing.find(n => n.name === part)
      if (node == null || (i < parts.length - 1 && node.type !== Node.Type.DIR)) throw new NotFoundError(`${snapshot.id.slice(0, 12)}… holds no ${parts.slice(0, i + 1).join('/')}`)
      if (i < parts.length - 1) listing = await this.trees.listing(node.subtree, signal)
    }
    return { snapshot, path: parts.join('/'), node }
  }

  /** Everything below a place in a snapshot, depth first, one item at a time. */
  async ls (arg: string, emit: (item: LsItem) => void, signal?: AbortSignal): Promise<void> {
    const at = await this.locate(arg, signal)
    const walk = async (nodes: Node[], prefix: string): Promise<void> => {
      for (const node of nodes) {
        signal?.throwIfAborted()
        const path = prefix === '' ? node.name : `${prefix}/${node.name}`
        emit(item(node, path))
        if (node.type === Node.Type.DIR) await walk(await this.trees.listing(node.subtree, signal), path)
      }
    }
    if (at.node == null) {
      await walk(await this.trees.listing(at.snapshot.tree.map(idBytes), signal), '')
    } else {
      emit(item(at.node, at.path))
      if (at.node.type === Node.Type.DIR) await walk(await this.trees.listing(at.node.subtree, signal), at.path)
    }
  }

  async get (request: GetRequest): Promise<GetResult> {
    const at = await this.locate(request.ref, request.signal)
    const into = request.output != null && (request.output.endsWith('/') || await isDirectory(request.output))
    const out = request.output != null ? resolve(request.cwd, request.output) : undefined
    let dir: string
    let nodes: Node[]
    let path: string
    if (at.node == null) {
      // a whole snapshot: its entries into OUT
      dir = out ?? request.cwd
      nodes = await this.trees.listing(at.snapshot.tree.map(idBytes), request.signal)
      path = dir
    } else if (at.node.type === Node.Type.DIR) {
      dir = out ?? request.cwd
      nodes = [at.node]
      path = join(dir, at.node.name)
    } else {
      // a file (or link): to OUT, or into it
      const target = out == null ? join(request.cwd, at.node.name) : into ? join(out, at.node.name) : out
      dir = dirname(target)
      nodes = [{ ...at.node, name: basename(target) }]
      path = target
    }
    const restorer = new Restorer({
      cipher: this.components.cipher,
      catalog: this.components.catalog,
      trees: this.trees,
      restores: this.components.restores,
      fetchPack: async (cid, options) => this.components.fetcher.fetch(cid, options),
      streamPack: async (cid, options) => { await streamChunk(this.components.fetcher, this.components.client, cid, options) },
      workers: this.components.workers
    }, {
      force: request.force === true,
      chunksInFlight: this.init.chunksInFlight,
      signal: request.signal,
      onProgress: request.onProgress,
      totals: at.node == null ? { files: at.snapshot.files, bytes: at.snapshot.size } : undefined
    })
    const counts = await restorer.restore(nodes, dir)
    return { id: at.snapshot.id, path, files: counts.files, size: counts.size }
  }
}

export function summary (s: SnapshotRecord, actual: number): SnapshotSummary {
  return {
    id: s.id,
    created: new Date(s.created).toISOString(),
    sources: s.sources,
    files: s.files,
    dirs: s.dirs,
    size: s.size,
    replicas: { desired: s.replicas, actual }
  }
}

function item (node: Node, path: string): LsItem {
  const type = node.type === Node.Type.DIR ? 'dir' : node.type === Node.Type.SYMLINK ? 'symlink' : 'file'
  return { path, type, size: Number(node.size), mode: node.mode, mtime: new Date(Number(node.mtimeNs / 1_000_000n)).toISOString() }
}

