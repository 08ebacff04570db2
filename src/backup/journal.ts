import { randomBytes } from 'node:crypto'
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
  constructor (private readonly datastore: Datastore, readonly id: string, private readonly onEnd?: () => void) {}

  private key (cid?: string): Key {
    return new Key(cid == null ? `${PENDING_PREFIX}/${this.id}` : `${PENDING_PREFIX}/${this.id}/${cid}`)
  }

  /** `cid` is stored on `holders`. */
  async record (cid: string, holders: string[]): Promise<void> {
    await this.datastore.put(this.key(cid), new TextEncoder().encode(JSON.stringify(holders)))
  }

  async placed (): Promise<Placed[]> {
    const out: Placed[] = []
    for await (const { key, value } of this.datastore.query({ prefix: this.key().toString() + '/' })) {
      out.push({ cid: key.baseNamespace(), holders: JSON.parse(new TextDecoder().decode(value)) })
    }
    return out
  }

  /** The put is over: in the catalog, or its chunks handed to the outbox. */
  async end (): Promise<void> {
    for await (const key of this.datastore.queryKeys({ prefix: this.key().toString() + '/' })) {
      await this.datastore.delete(key)
    }
    this.onEnd?.()
  }
}
