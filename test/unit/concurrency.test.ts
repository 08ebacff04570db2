import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Budget, forEachConcurrent, delay } from '../../src/util/concurrency.js'

describe('forEachConcurrent', () => {
  it('runs every item with at most `limit` calls in flight', async () => {
    let running = 0
    let peak = 0
    const seen: number[] = []
    await forEachConcurrent(Array.from({ length: 20 }, (_, i) => i), 3, async (i) => {
      running++
      peak = Math.max(peak, running)
      await delay(2 + (i % 3))
      seen.push(i)
      running--
    })
    assert.equal(peak, 3)
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i))
  })

  it('throws the first error, after the running calls settle, and stops pulling', async () => {
    let pulled = 0
    let settled = 0
    let running = 0
    async function * source (): AsyncGenerator<number> {
      for (let i = 0; i < 100; i++) { pulled++; yield i }
    }
    await assert.rejects(forEachConcurrent(source(), 4, async (i) => {
      running++
      try {
        if (i === 5) { await delay(1); throw new Error('boom 5') }
        if (i === 6) { await delay(5); throw new Error('boom 6') }
        await delay(10)
      } finally {
        running--
        settled++
      }
    }), /boom 5/)
    assert.equal(running, 0)
    assert.ok(pulled < 20, `pulled ${pulled}`)
    assert.equal(settled, pulled)
  })

  it('pulls lazily: never more than `limit` items ahead of the finished ones', async () => {
    let pulled = 0
    let done = 0
    let maxAhead = 0
    async function * source (): AsyncGenerator<number> {
      for (let i = 0; i < 30; i++) {
        pulled++
        maxAhead = Math.max(maxAhead, pulled - done)
        yield i
      }
    }
    await forEachConcurrent(source(), 2, async () => { await delay(1); done++ })
    assert.equal(done, 30)
    assert.ok(maxAhead <= 2, `pulled ${maxAhead} ahead`)
  })

  it('closes the source when a call fails', async () => {
    let closed = false
    async function * source (): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i
      } finally { closed = true }
    }
    await assert.rejects(forEachConcurrent(source(), 2, async (i) => { if (i === 3) throw new Error('stop') }), /stop/)
    assert.equal(closed, true)
  })

  it('propagates an error of the source', async () => {
    async function * source (): AsyncGenerator<number> {
      yield 1
      throw new Error('read failed')
    }
    await assert.rejects(forEachConcurrent(source(), 3, async () => {}), /read failed/)
  })

  it('stops with the signal\'s reason when aborted', async () => {
    const controller = new AbortController()
    let calls = 0
    await assert.rejects(forEachConcurrent(Array.from({ length: 100 }, (_, i) => i), 2, async () => {
      calls++
      if (calls === 4) controller.abort(new Error('cancelled'))
      await delay(1)
    }, controller.signal), /cancelled/)
    assert.ok(calls < 10)
  })

  it('handles an empty source', async () => {
    await forEachConcurrent([], 4, async () => { throw new Error('never') })
  })
})

describe('delay', () => {
  it('rejects when the signal aborts', async () => {
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(new Error('gone')), 5)
    await assert.rejects(delay(10_000, controller.signal), /gone/)
    assert.ok(Date.now() - started < 1000)
  })
})

describe('Budget', () => {
  it('lets holders in while their weights fit, in the order they came, and one heavier than all alone', async () => {
    const budget = new Budget(10)
    const order: string[] = []
    await budget.acquire(6)
    const b = budget.acquire(6).then(() => order.push('b'))
    const c = budget.acquire(1).then(() => order.push('c'))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(order.length, 0, 'b does not fit; c waits behind it')
    budget.release(6)
    await Promise.all([b, c])
    assert.deepEqual(order, ['b', 'c'])
    budget.release(6)
    budget.release(1)
    await budget.acquire(50)
    const d = budget.acquire(1).then(() => order.push('d'))
    await new Promise(resolve => setImmediate(resolve))
    assert.equal(order.length, 2, 'the heavy one is alone')
    budget.release(50)
    await d
  })

  it('an aborted waiter leaves, and those behind it are let in', async () => {
    const budget = new Budget(4)
    await budget.acquire(4)
    const controller = new AbortController()
    const a = budget.acquire(4, controller.signal)
    let got = false
    const b = budget.acquire(1).then(() => { got = true })
    controller.abort(new Error('stop'))
    await assert.rejects(a, /stop/)
    budget.release(4)
    await b
    assert.equal(got, true)
  })
})
