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
