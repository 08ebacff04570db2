import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf } from '../../src/chunking/index.js'
import { Announcer } from '../../src/replication/announcer.js'
import { delay } from '../../src/util/concurrency.js'
import type { CID } from 'multiformats/cid'

function routing (): { provided: string[], cancelled: string[], provide: (cid: CID) => Promise<void>, cancelReprovide: (cid: CID) => Promise<void> } {
  const r = {
    provided: [] as string[],
    cancelled: [] as string[],
    provide: async (cid: CID) => { r.provided.push(cid.toString()) },
    cancelReprovide: async (cid: CID) => { r.cancelled.push(cid.toString()) }
  }
  return r
}

const cid = (i: number): CID => cidOf(new TextEncoder().encode(`chunk ${i}`))

describe('Announcer (unit, stub content routing)', () => {
  it('provides what is announced, at most perSecond', async () => {
    const r = routing()
    const announcer = new Announcer({ contentRouting: r }, { concurrency: 2, perSecond: 20 })
    announcer.start()
    const started = Date.now()
    for (let i = 0; i < 6; i++) announcer.announce(cid(i))
    while (r.provided.length < 6 && Date.now() - started < 5_000) await delay(10)
    await announcer.stop()
    assert.deepEqual([...r.provided].sort(), Array.from({ length: 6 }, (_, i) => cid(i).toString()).sort())
    // 6 provides at 20 per second take at least 2 batches' worth of waiting
    assert.ok(Date.now() - started >= 200, `took only ${Date.now() - started} ms`)
  })

  it('stops announcing a chunk that is dropped', async () => {
    const r = routing()
    const announcer = new Announcer({ contentRouting: r }, { concurrency: 1, perSecond: 1000 })
    announcer.announce(cid(1))
    announcer.announce(cid(2))
    announcer.withdraw(cid(1))
    announcer.start()
    while (r.provided.length < 1) await delay(10)
    await delay(50)
    await announcer.stop()
    assert.deepEqual(r.provided, [cid(2).toString()])
    assert.deepEqual(r.cancelled, [cid(1).toString()], 'its re-announcing is cancelled')
  })
})
