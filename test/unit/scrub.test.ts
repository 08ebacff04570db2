import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { Scrubber } from '../../src/store/scrub.js'
import { delay } from '../../src/util/concurrency.js'

/** A store whose scrub passes are counted, each taking `ms` unless aborted. */
function countingStore (ms = 0): { scrub: Scrubber['pass'] extends () => infer R ? (o: { signal?: AbortSignal }) => R : never, passes: number, aborted: number } {
  const store = {
    passes: 0,
    aborted: 0,
    scrub: async (options: { signal?: AbortSignal }) => {
      store.passes++
      try {
        await delay(ms, options.signal)
      } catch (err) {
        store.aborted++
        throw err
      }
      return { checked: 0, dropped: 0, unclaimed: 0 }
    }
  }
  return store
}

const LAST = new Key('/backpack/scrub/last')
const text = (n: number): Uint8Array => new TextEncoder().encode(String(n))

describe('Scrubber', () => {
  it('waits one interval after the first start, then scrubs once per interval', async () => {
    const datastore = new MemoryDatastore()
    const store = countingStore()
    const scrubber = new Scrubber({ store, datastore }, { intervalMs: 300 })
    await scrubber.start()
    await delay(150)
    assert.equal(store.passes, 0)
    await delay(1000)
    await scrubber.stop()
    assert.ok(store.passes >= 2 && store.passes <= 4, `${store.passes} passes`)
    assert.ok(Number(new TextDecoder().decode(await datastore.get(LAST))) > Date.now() - 1000)
  })

  it('starts a pass at once when the last one is older than the interval, and not before when it is recent', async () => {
    const old = new MemoryDatastore()
    await old.put(LAST, text(Date.now() - 60_000))
    const due = countingStore()
    const a = new Scrubber({ store: due, datastore: old }, { intervalMs: 30_000 })
    await a.start()
    await delay(100)
    await a.stop()
    assert.equal(due.passes, 1)

    const recent = new MemoryDatastore()
    await recent.put(LAST, text(Date.now() - 1_000))
    const notDue = countingStore()
    const b = new Scrubber({ store: notDue, datastore: recent }, { intervalMs: 30_000 })
    await b.start()
    await delay(100)
    await b.stop()
    assert.equal(notDue.passes, 0)
  })

  it('stop aborts a pass under way and records no pass', async () => {
    const datastore = new MemoryDatastore()
    const before = Date.now() - 60_000
    await datastore.put(LAST, text(before))
    const store = countingStore(10_000)
    const scrubber = new Scrubber({ store, datastore }, { intervalMs: 30_000 })
    await scrubber.start()
    await delay(100)
    await scrubber.stop()
    assert.equal(store.passes, 1)
    assert.equal(store.aborted, 1)
    assert.equal(Number(new TextDecoder().decode(await datastore.get(LAST))), before)
  })
})
