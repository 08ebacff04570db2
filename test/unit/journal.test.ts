import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore } from 'datastore-core'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PutJournal, RestoreJournal } from '../../src/catalog/journal.js'
import { tempDir } from '../helpers/tmp.js'

describe('PutJournal', () => {
  it('keeps where each chunk went until the put ends', async () => {
    const journal = new PutJournal({ datastore: new MemoryDatastore() })
    const put = journal.begin()
    await put.record('a', ['p1', 'p2'])
    await put.record('b', ['p3'])
    await put.record('a', ['p2'])
    assert.deepEqual((await put.placed()).sort((x, y) => x.cid.localeCompare(y.cid)), [{ cid: 'a', holders: ['p2'] }, { cid: 'b', holders: ['p3'] }])
    await put.end()
    assert.deepEqual(await put.placed(), [])
  })

  it('tells the puts of an earlier run from the ones still running', async () => {
    const datastore = new MemoryDatastore()
    const earlier = new PutJournal({ datastore })
    const dead = earlier.begin()
    await dead.record('a', ['p1'])

    // the next run
    const journal = new PutJournal({ datastore })
    const running = journal.begin()
    await running.record('b', ['p2'])
    assert.deepEqual((await journal.leftovers()).map(p => p.id), [dead.id])
    assert.deepEqual(journal.live().map(p => p.id), [running.id])
    await running.end()
    assert.deepEqual(journal.live(), [])
  })

  it('still knows where chunks went when the datastore refuses the records (a full disk)', async () => {
    const datastore = new MemoryDatastore()
    const journal = new PutJournal({ datastore })
    const put = journal.begin()
    await put.record('a', ['p1'])
    const full = Object.assign(new Error('IO error: No space left on device'), { code: 'LEVEL_IO_ERROR' })
    datastore.put = async () => { throw full }
    await assert.rejects(put.record('b', ['p2', 'p3']), full)
    put.remember('c', ['p4'])
    assert.deepEqual((await put.placed()).sort((x, y) => x.cid.localeCompare(y.cid)), [
      { cid: 'a', holders: ['p1'] }, { cid: 'b', holders: ['p2', 'p3'] }, { cid: 'c', holders: ['p4'] }
    ])
    // the deletes fail too: the put is over for this run, its records are left for the next start
    datastore.delete = async () => { throw full }
    await assert.rejects(put.end(), full)
    assert.deepEqual(journal.live(), [])
    assert.deepEqual(await put.placed(), [{ cid: 'a', holders: ['p1'] }])
  })
})

describe('RestoreJournal', () => {
  it('removes at cleanup the files of restores never forgotten, and only those', async () => {
    const { dir, cleanup } = await tempDir('backpack-restores-')
    try {
      const datastore = new MemoryDatastore()
      const earlier = new RestoreJournal({ datastore })
      const done = join(dir, '.a.backpack-1')
      const died = join(dir, '.b.backpack-2')
      const gone = join(dir, '.c.backpack-3')
      await writeFile(done, 'x')
      await writeFile(died, 'y')
      const forget = await earlier.begin(done)
      await earlier.begin(died)
      await earlier.begin(gone) // never written: nothing to remove, no error
      await forget()
      // the next run
      const removed = await new RestoreJournal({ datastore }).cleanup()
      assert.deepEqual(removed.sort(), [died, gone].sort())
      assert.deepEqual(await readdir(dir), ['.a.backpack-1'])
      assert.deepEqual(await new RestoreJournal({ datastore }).cleanup(), [], 'records are gone too')
    } finally {
      await cleanup()
    }
  })
})
