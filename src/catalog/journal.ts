import { randomBytes } from 'node:crypto'
import { readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { Key } from 'interface-datastore'
import type { Datastore } from 'interface-datastore'

/** Datastore prefix of puts in progress: `/backpack/pending/<put>/<cid>` → holders (JSON). */
const PENDING_PREFIX = '/backpack/pending'

/** A chunk (or manifest) a put stored, and on which peers. */
export interface Placed {
  cid: string
  holders: string[]
}

/**
 * Where the chunks of puts in progress went, kept in the datastore as they
 * are stored. A put that fails, is cancelled, or dies with the node leaves
 * its records behind, and whoever finds them (the put itself, or the node
 * at its next start) asks the holders to drop what no backup uses: an
 * interrupted put does not hold other peers' disk until the lease expires.
 */
export class PutJournal {
  /** Puts begun in this run and not ended: their chunks may still be wanted */
  private readonly running = new Map<string, PendingPut>()

  constructor (private readonly components: { datastore: Datastore }) {}

  /** A new put. */
  begin (): PendingPut {
    const put = new PendingPut(this.components.datastore, randomBytes(8).toString('hex'), () => { this.running.delete(put.id) })
    this.running.set(put.id, put)
    return put
  }

  /** Puts of earlier runs that never ended. */
  async leftovers (): Promise<PendingPut[]> {
    const ids = new Set<string>()
    for await (const key of this.components.datastore.queryKeys({ prefix: PENDING_PREFIX + '/' })) {
      const id = key.toString().split('/')[3]
      if (!this.running.has(id)) ids.add(id)
    }
    return [...ids].map(id => new PendingPut(this.components.datastore, id))
  }

  /** Puts begun in this run and not ended yet. */
  live (): PendingPut[] {
    return [...this.running.values()]
  }
}

export class PendingPut {
  /**
   * What this run placed, in memory too: when the datastore refuses a record
   * (its disk is full) the put fails, and what it stored can still be dropped.
   */
  private readonly known = new Map<string, string[]>()

  constructor (private readonly datastore: Datastore, readonly id: string, private readonly onEnd?: () => void) {}

  private key (cid?: string): Key {
    return new Key(cid == null ? `${PENDING_PREFIX}/${this.id}` : `${PENDING_PREFIX}/${this.id}/${cid}`)
  }

  /** `cid` is stored (or may be on its way) on `holders`. */
  async record (cid: string, holders: string[]): Promise<void> {
    this.remember(cid, holders)
    await this.datastore.put(this.key(cid), new TextEncoder().encode(JSON.stringify(holders)))
  }

  /** Like `record`, in memory only: for when writing the record failed. */
  remember (cid: string, holders: string[]): void {
    this.known.set(cid, holders)
  }

  /** Where each chunk went: the records, and what this run knows beyond them. */
  async placed (): Promise<Placed[]> {
    const out = new Map<string, string[]>()
    for await (const { key, value } of this.datastore.query({ prefix: this.key().toString() + '/' })) {
      out.set(key.baseNamespace(), JSON.parse(new TextDecoder().decode(value)))
    }
    for (const [cid, holders] of this.known) out.set(cid, holders)
    return [...out].map(([cid, holders]) => ({ cid, holders }))
  }

  /** The put is over: in the catalog, or its chunks handed to the outbox. */
  async end (): Promise<void> {
    try {
      for await (const key of this.datastore.queryKeys({ prefix: this.key().toString() + '/' })) {
        await this.datastore.delete(key)
      }
    } finally {
      // over for this run even when its records stay (the next start finds them)
      this.known.clear()
      this.onEnd?.()
    }
  }
}

/** Datastore prefix of restores in progress: `/backpack/restoring/<id>` → the temporary file's path. */
const RESTORING_PREFIX = '/backpack/restoring'

/**
 * The temporary files of restores in progress. A `get` writes beside its
 * target under a hidden name and renames when done; a node that dies
 * mid-restore would leave that file behind (as large as what it had
 * written), so its path is recorded and the next start removes it.
 */
export class RestoreJournal {
  constructor (private readonly components: { datastore: Datastore }) {}

  /** Record `path`; the returned function forgets it once the restore is over. */
  async begin (path: string): Promise<() => Promise<void>> {
    const key = new Key(`${RESTORING_PREFIX}/${randomBytes(8).toString('hex')}`)
    await this.components.datastore.put(key, new TextEncoder().encode(path))
    return async () => { await this.components.datastore.delete(key) }
  }

  /**
   * Remove the temporary files of restores that died with an earlier run;
   * returns what was cleaned. A record is a file's path, or (a tree's
   * restore) `{"root", "suffix"}`: every file below root ending in suffix.
   */
  async cleanup (): Promise<string[]> {
    const removed: string[] = []
    for await (const { key, value } of this.components.datastore.query({ prefix: RESTORING_PREFIX + '/' })) {
      const text = new TextDecoder().decode(value)
      if (text.startsWith('{')) {
        const { root, suffix } = JSON.parse(text) as { root: string, suffix: string }
        removed.push(...await removeBelow(root, suffix))
      } else {
        await unlink(text).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
        removed.push(text)
      }
      await this.components.datastore.delete(key)
    }
    return removed
  }
}

/** Remove every file below `dir` whose name ends in `suffix`, never following links. */
async function removeBelow (dir: string, suffix: string): Promise<string[]> {
  const removed: string[] = []
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) removed.push(...await removeBelow(path, suffix))
    else if (entry.name.endsWith(suffix)) {
      await unlink(path).catch(() => {})
      removed.push(path)
    }
  }
  return removed
}
