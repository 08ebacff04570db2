import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rendezvous } from '../../src/replication/peers.js'

const peersOf = (n: number): Array<{ name: string, key: Uint8Array }> =>
  Array.from({ length: n }, (_, i) => ({ name: `p${i}`, key: randomBytes(38) }))

describe('rendezvous order of peers for a chunk', () => {
  for (const n of [3, 5]) {
    it(`ranks each of ${n} peers first for an equal share of chunks`, () => {
      const peers = peersOf(n)
      const targets = 6000
      const first = new Map<string, number>()
      for (let i = 0; i < targets; i++) {
        const top = rendezvous(peers, randomBytes(34))[0].name
        first.set(top, (first.get(top) ?? 0) + 1)
      }
      for (const peer of peers) {
        const share = (first.get(peer.name) ?? 0) / targets
        assert.ok(Math.abs(share - 1 / n) < 0.15 / n, `${peer.name} is first for ${(share * 100).toFixed(1)}% of chunks, not about ${(100 / n).toFixed(1)}%`)
      }
    })
  }

  it('does not depend on the order peers are listed in', () => {
    const peers = peersOf(6)
    const target = randomBytes(34)
    assert.deepEqual(rendezvous([...peers].reverse(), target).map(p => p.name), rendezvous(peers, target).map(p => p.name))
  })

  it('keeps the order of the others when a peer leaves', () => {
    const peers = peersOf(5)
    for (let i = 0; i < 200; i++) {
      const target = randomBytes(34)
      const gone = peers[i % peers.length]
      const before = rendezvous(peers, target).filter(p => p !== gone).map(p => p.name)
      const after = rendezvous(peers.filter(p => p !== gone), target).map(p => p.name)
      assert.deepEqual(after, before)
    }
  })
})
