import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { Catalog } from '../../src/catalog/catalog.js'
import { PutJournal } from '../../src/catalog/journal.js'
import { cidOf } from '../../src/chunking/index.js'
import { Deletes } from '../../src/replication/deletes.js'
import type { PackKind } from '../../src/catalog/catalog.js'

const cid = (name: string): string => cidOf(new TextEncoder().encode(name)).toString()

/** A catalog and a stub outbox that records what each holder is told to drop. */
async function setup (): Promise<{ catalog: Catalog, deletes: Deletes, told: Map<string, Set<string>>, datastore: MemoryDatastore }> {
  const datastore = new MemoryDatastore()
  const catalog = new Catalog({ datastore })
  const told = new Map<string, Set<string>>()
  const deletes = new Deletes({
    catalog,
    outbox: {
      queueDelete: async (holder, cids, batch) => {
        if (batch == null) throw new Error('deletes are queued with their records')
        told.set(holder, new Set([...(told.get(holder) ?? []), ...cids]))
      },
      deleteNow: async () => {},
      flush: async () => {},
      pendingFor: async () => false
    }
  }, { graceMs: 0 })
  return { catalog, deletes, told, datastore }
}

async function snapshot (catalog: Catalog, id: string, needs: Array<[string, PackKind]>): Promise<void> {
  const batch = catalog.batch()
  for (const [c, kind] of needs) catalog.putPack(batch, { cid: c, kind, size: 10, replicas: 2, holders: ['h1', 'h2'] })
  catalog.putSnapshot(batch, { id, created: Date.now(), sources: ['/s'], tree: [], files: 0, dirs: 0, size: 0, replicas: 2, hostname: 'h', added: 0 }, needs.map(([c]) => c))
  await batch.commit()
}

describe('Deletes (the delete policy)', () => {
  it('drops what only the removed snapshots need, from every holder, and never a chunk another snapshot uses', async () => {
    const { catalog, deletes, told } = await setup()
    const [s1, s2, shared, only1, only2] = [cid('s1'), cid('s2'), cid('shared'), cid('only1'), cid('only2')]
    await snapshot(catalog, s1, [[s1, 'snapshot'], [shared, 'data'], [only1, 'data']])
    await snapshot(catalog, s2, [[s2, 'snapshot'], [shared, 'data'], [only2, 'data']])
    const result = await deletes.removeSnapshots([s1])
    assert.deepEqual(result.removed, [s1])
    assert.equal(result.chunks, 2)
    assert.deepEqual([...told.get('h1') ?? []].sort(), [s1, only1].sort())
    assert.deepEqual([...told.get('h2') ?? []].sort(), [s1, only1].sort())
    assert.equal(await catalog.pack(only1), undefined)
    assert.notEqual(await catalog.pack(shared), undefined, 'still used by s2')
    assert.equal(await catalog.snapshot(s1), undefined)
    assert.deepEqual((await catalog.snapshots()).map(s => s.id), [s2])
  })

  it('a failed put drops what it placed except what a snapshot needs, also on holders only its journal knows', async () => {
    const { catalog, deletes, told, datastore } = await setup()
    const [s1, kept, lost] = [cid('s1'), cid('kept'), cid('lost')]
    await snapshot(catalog, s1, [[s1, 'snapshot'], [kept, 'data']])
    const put = new PutJournal({ datastore }).begin()
    await put.record(kept, ['h1'])
    await put.record(lost, ['h3'])
    await catalog.putPackNow({ cid: lost, kind: 'data', size: 5, replicas: 2, holders: ['h3'] })
    await deletes.abandon(put)
    assert.deepEqual([...told.keys()], ['h3'])
    assert.deepEqual([...told.get('h3') ?? []], [lost])
    assert.equal(await catalog.pack(lost), undefined)
    assert.deepEqual(await put.placed(), [], 'the journal of the put is gone')
  })
})
