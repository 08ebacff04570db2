import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'

const CATALOG_PREFIX = '/backpack/catalog'

export interface ChunkPlacement {
  cid: string
  /** Plaintext bytes of this piece of the file */
  size: number
  /** Peers that hold a copy, as far as the owner knows */
  holders: string[]
}

/** One backup in the owner's catalog. */
export interface CatalogEntry {
  /** CID of the sealed manifest */
  id: string
  name: string
  size: number
  mode: number
  mtime: number
  /** ms since the epoch */
  created: number
  replicas: number
  chunkSize: number
  chunks: ChunkPlacement[]
  /** Holders of the sealed manifest */
  manifest: { holders: string[] }
}

/** The owner's own backups, in the repo's datastore. */
export class Catalog {
  private readonly datastore: Datastore
  private queue: Promise<unknown> = Promise.resolve()

  constructor (components: { datastore: Datastore }) {
    this.datastore = components.datastore
  }

  private key (id: string): Key {
    return new Key(`${CATALOG_PREFIX}/${id}`)
  }

  async put (entry: CatalogEntry): Promise<void> {
    await this.datastore.put(this.key(entry.id), new TextEncoder().encode(JSON.stringify(entry)))
  }

  async get (id: string): Promise<CatalogEntry | undefined> {
    try {
      return JSON.parse(new TextDecoder().decode(await this.datastore.get(this.key(id))))
    } catch {
      return undefined
    }
  }

  /**
   * Change an entry: `fn` gets the current entry and returns the new one.
   * Updates run one at a time, so repair and "moved" notices do not lose
   * each other's changes.
   */
  async update (id: string, fn: (entry: CatalogEntry) => CatalogEntry | undefined): Promise<void> {
    const run = this.queue.then(async () => {
      const entry = await this.get(id)
      if (entry == null) return
      const next = fn(entry)
      if (next != null) await this.put(next)
    })
    this.queue = run.catch(() => {})
    await run
  }

  /** A holder handed chunks on: `from` is replaced by `to` wherever it held them. */
  async moveHolder (from: string, to: string, cids: Set<string>): Promise<number> {
    let moved = 0
    const swap = (holders: string[]): string[] => {
      moved++
      return holders.includes(to) ? holders.filter(h => h !== from) : holders.map(h => h === from ? to : h)
    }
    for (const entry of await this.list()) {
      const touches = entry.chunks.some(c => cids.has(c.cid) && c.holders.includes(from)) ||
        (cids.has(entry.id) && entry.manifest.holders.includes(from))
      if (!touches) continue
      await this.update(entry.id, e => ({
        ...e,
        chunks: e.chunks.map(c => cids.has(c.cid) && c.holders.includes(from) ? { ...c, holders: swap(c.holders) } : c),
        manifest: cids.has(e.id) && e.manifest.holders.includes(from) ? { holders: swap(e.manifest.holders) } : e.manifest
      }))
    }
    return moved
  }

  /** cid → the peers recorded as holding it, over every entry. */
  async holdersOf (): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>()
    const add = (cid: string, holders: string[]): void => {
      let set = out.get(cid)
      if (set == null) out.set(cid, set = new Set())
      for (const h of holders) set.add(h)
    }
    for (const entry of await this.list()) {
      add(entry.id, entry.manifest.holders)
      for (const c of entry.chunks) add(c.cid, c.holders)
    }
    return out
  }

  /** Every CID (chunks and manifests) that some entry uses, except `exceptId`'s. */
  async referenced (exceptId?: string): Promise<Set<string>> {
    const out = new Set<string>()
    for (const entry of await this.list()) {
      if (entry.id === exceptId) continue
      out.add(entry.id)
      for (const c of entry.chunks) out.add(c.cid)
    }
    return out
  }

  /** A backup by id, else the newest of that name. */
  async find (ref: string): Promise<CatalogEntry | undefined> {
    return await this.get(ref) ?? (await this.list()).find(e => e.name === ref)
  }

  async delete (id: string): Promise<void> {
    await this.datastore.delete(this.key(id))
  }

  /** Every entry, newest first. */
  async list (): Promise<CatalogEntry[]> {
    const out: CatalogEntry[] = []
    for await (const { value } of this.datastore.query({ prefix: CATALOG_PREFIX + '/' })) {
      out.push(JSON.parse(new TextDecoder().decode(value)))
    }
    return out.sort((a, b) => b.created - a.created || a.name.localeCompare(b.name))
  }

  async count (): Promise<number> {
    let n = 0
    for await (const _ of this.datastore.queryKeys({ prefix: CATALOG_PREFIX + '/' })) n++
    return n
  }
}
