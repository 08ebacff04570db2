import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { MemoryDatastore } from 'datastore-core'
import { cidOf } from '../../src/chunking/index.js'
import { HolderGroups, groupCid, holderGroup } from '../../src/replication/groups.js'
import type { HeldChunk } from '../../src/store/index.js'
import type { CID } from 'multiformats/cid'

/** Records what would be announced and withdrawn. */
function announcer (): { announced: string[], withdrawn: string[], announce: (cid: CID) => void, withdraw: (cid: CID) => void } {
  const a = { announced: [] as string[], withdrawn: [] as string[], announce: (cid: CID) => { a.announced.push(cid.toString()) }, withdraw: (cid: CID) => { a.withdrawn.push(cid.toString()) } }
  return a
}

describe('holder groups', () => {
  it('derive the same group from the same secret, another from another, with no trace of the secret', () => {
    const secret = randomBytes(32)
    assert.deepEqual(holderGroup(secret), holderGroup(Uint8Array.from(secret)))
    assert.notDeepEqual(holderGroup(secret), holderGroup(randomBytes(32)))
    assert.equal(holderGroup(secret).byteLength, 32)
    assert.ok(!Buffer.from(holderGroup(secret)).includes(secret.subarray(0, 8)))
  })

  it("announce an owner's group once, however many chunks come, and keep it across a restart", async () => {
    const datastore = new MemoryDatastore()
    const a = announcer()
    const held: HeldChunk[] = []
    const groups = new HolderGroups({ datastore, announcer: a, held: async function * () { yield * held } })
    await groups.start()
    const group = randomBytes(32)
    for (let i = 0; i < 5; i++) await groups.stored('owner-a', group)
    assert.deepEqual(a.announced, [groupCid(group).toString()])

    const again = new HolderGroups({ datastore, announcer: announcer(), held: async function * () {} })
    await again.start()
    assert.deepEqual(again.groupOf('owner-a'), group)
  })

  it('let only the owner change its group; a peer handing a chunk on may only name an unknown one', async () => {
    const a = announcer()
    const groups = new HolderGroups({ datastore: new MemoryDatastore(), announcer: a, held: async function * () {} })
    await groups.start()
    const first = randomBytes(32)
    await groups.stored('owner-a', first, 'some-holder')
    assert.deepEqual(groups.groupOf('owner-a'), first)
    await groups.stored('owner-a', randomBytes(32), 'some-holder')
    assert.deepEqual(groups.groupOf('owner-a'), first)
    const second = randomBytes(32)
    await groups.stored('owner-a', second, 'owner-a')
    assert.deepEqual(groups.groupOf('owner-a'), second)
    assert.deepEqual(a.withdrawn, [groupCid(first).toString()])
  })

  it('withdraw the group of an owner with no chunk left here, and only that one', async () => {
    const a = announcer()
    const held: HeldChunk[] = [{ cid: cidOf(randomBytes(8)), owner: 'owner-b', renewed: Date.now() }]
    const groups = new HolderGroups({ datastore: new MemoryDatastore(), announcer: a, held: async function * () { yield * held } })
    await groups.start()
    const ga = randomBytes(32)
    const gb = randomBytes(32)
    await groups.stored('owner-a', ga)
    await groups.stored('owner-b', gb)
    await groups.sweep()
    assert.deepEqual(a.withdrawn, [groupCid(ga).toString()])
    assert.equal(groups.groupOf('owner-a'), undefined)
    assert.deepEqual(groups.groupOf('owner-b'), gb)
  })
})
