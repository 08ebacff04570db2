import { basename, join, resolve } from 'node:path'
import { CID } from 'multiformats/cid'
import { InvalidInputError, NotFoundError } from '../errors.js'
import { decodeManifest } from './manifest.js'
import { fetchChunk, getFile } from './get.js'
import { lowestCount, putFile } from './put.js'
import { listFiles, safeJoin } from './walk.js'
import { isDirectory } from '../util/fs.js'
import type { Catalog, CatalogEntry } from './catalog.js'
import type { GetResult } from './get.js'
import type { PutResult } from './put.js'
import type { DataCipher } from '../chunking/cipher.js'
import type { CryptoPool } from '../chunking/crypto-pool.js'
import type { ChunkClient } from '../protocol/client.js'
import type { BackpackPeers } from '../replication/peers.js'
import type { Placement } from '../replication/placement.js'
import type { GroupLookup } from '../replication/groups.js'
import type { PendingPut, PutJournal, RestoreJournal } from './journal.js'
import type { PeerId } from '@libp2p/interface'

export type ProgressFn = (event: Record<string, unknown>) => void

export interface BackupComponents {
  peerId: PeerId
  peerIdFromString: (id: string) => PeerId
  /** Where the chunks of puts in progress went */
  journal: PutJournal
  /** The temporary files of restores in progress */
  restores: RestoreJournal
  /** A put failed: ask the holders to drop what it stored and no backup uses */
  abandon: (put: PendingPut) => Promise<void>
  /** Finds the peers holding this node's chunks through the DHT */
  groupLookup: Pick<GroupLookup, 'holders' | 'forget'>
  /** Seals small things (manifests) on the main thread */
  cipher: DataCipher
  /** Seals and opens chunks in worker threads */
  crypto: CryptoPool
  client: ChunkClient
  peers: BackpackPeers
  placement: Placement
  catalog: Catalog
}

export interface BackupInit {
  chunkSize: number
  chunksInFlight: number
}

export interface LsEntry {
  id: string
  name: string
  size: number
  chunks: number
  replicas: { desired: number, actual: number }
  created: string
}

export interface PutRequest {
  paths: string[]
  replicas: number
  name?: string
  signal?: AbortSignal
  onProgress?: ProgressFn
}

export interface GetRequest {
  ref: string
  /** Absolute output path; default `cwd/NAME` (or `cwd` for a `NAME/`) */
  output?: string
  cwd: string
  force?: boolean
  signal?: AbortSignal
  onProgress?: ProgressFn
}

/** `put`, `get` and `ls`: the owner's side of backups. */
export class Backups {
  readonly components: BackupComponents
  readonly init: BackupInit

  constructor (components: BackupComponents, init: BackupInit) {
    this.components = components
    this.init = init
  }

  async put (request: PutRequest): Promise<PutResult[]> {
    if (request.paths.length === 0) throw new InvalidInputError('nothing to back up: give one or more paths')
    const files = await listFiles(request.paths, request.name)
    if (request.name != null && files.length > 1 && request.paths.length > 1) {
      throw new InvalidInputError('--name takes a single file or directory')
    }
    const out: PutResult[] = []
    for (const file of files) {
      out.push(await putFile(this.components, this.init, file.path, file.name, request))
    }
    return out
  }

  /** A backup by id, else the newest of that name, else a manifest found in the network. */
  async resolve (ref: string, signal?: AbortSignal): Promise<CatalogEntry> {
    const { catalog } = this.components
    const known = await catalog.find(ref)
    if (known != null) return known
    let cid: CID | undefined
    try {
      cid = CID.parse(ref)
    } catch {}
    if (cid != null) {
      // not in the catalog (a recovered repo): look for the manifest in the network
      try {
        const sealed = await fetchChunk(this.components, cid, [], 0, signal, undefined, 1)
        const entry = decodeManifest(ref, this.components.cipher.open(sealed))
        await catalog.put(entry)
        return entry
      } catch (err: any) {
        signal?.throwIfAborted()
        if (err.name !== 'UnavailableError' && err.name !== 'DecryptError') throw err
      }
    }
    throw new NotFoundError(`no backup ${ref}: 'backpack ls' lists them`)
  }

  async get (request: GetRequest): Promise<GetResult | GetResult[]> {
    if (request.ref.endsWith('/')) {
      const entries = newestPerName((await this.components.catalog.list()).filter(e => e.name.startsWith(request.ref)))
      if (entries.length === 0) throw new NotFoundError(`no backup below ${request.ref}: 'backpack ls' lists them`)
      const dir = request.output ?? request.cwd
      const out: GetResult[] = []
      for (const entry of entries) {
        out.push(await getFile(this.components, this.init, entry, safeJoin(dir, entry.name), request))
      }
      return out
    }
    const entry = await this.resolve(request.ref, request.signal)
    let target = request.output != null ? resolve(request.cwd, request.output) : safeJoin(request.cwd, entry.name)
    // into an existing directory (or one named with a trailing slash), as cp does
    if (request.output != null && (request.output.endsWith('/') || await isDirectory(target))) target = join(target, basename(entry.name))
    return getFile(this.components, this.init, entry, target, request)
  }

  /** Replica count of a backup from its placement record: holders connected now. */
  actualReplicas (entry: CatalogEntry): number {
    const { peers } = this.components
    const count = (holders: string[]): number => holders.filter(h => peers.isConnected(h)).length
    return lowestCount([count(entry.manifest.holders), ...entry.chunks.map(c => count(c.holders))])
  }

  async ls (name?: string): Promise<LsEntry[]> {
    const entries = (await this.components.catalog.list()).filter(e => name == null || e.name === name)
    return entries.map(e => ({
      id: e.id,
      name: e.name,
      size: e.size,
      chunks: e.chunks.length,
      replicas: { desired: e.replicas, actual: this.actualReplicas(e) },
      created: new Date(e.created).toISOString()
    }))
  }
}

/** Newest entry of each name (entries come newest first). */
function newestPerName (entries: CatalogEntry[]): CatalogEntry[] {
  const seen = new Set<string>()
  return entries.filter(e => {
    if (seen.has(e.name)) return false
    seen.add(e.name)
    return true
  })
}
