import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { Mesh } from '../../src/replication/mesh.js'
import { startNode, stopAll, connect, waitFor } from '../helpers/nodes.js'
import type { TestNode } from '../helpers/nodes.js'

function connected (a: TestNode, b: TestNode): boolean {
  return a.libp2p.getConnections(b.libp2p.peerId).length > 0
}

describe('mesh over 5 real nodes', { timeout: 60_000 }, () => {
  const nodes: TestNode[] = []
  const meshes: Mesh[] = []

  after(async () => {
    for (const mesh of meshes) mesh.stop()
    await stopAll(nodes)
  })

  async function meshNode (): Promise<TestNode> {
    const node = await startNode({ serve: { limit: 1024 } })
    nodes.push(node)
    const mesh = new Mesh({ libp2p: node.libp2p }, { maxConnections: 100, intervalMs: 500, discoveryFirstDelayMs: 200 })
    mesh.start()
    meshes.push(mesh)
    return node
  }

  it('two groups that first meet through a node joining later become one mesh', async () => {
    // two groups, each of which asked the DHT for peers before the other existed for it
    const [a, c, b, d] = [await meshNode(), await meshNode(), await meshNode(), await meshNode()]
    await connect(c, a)
    await connect(d, b)
    await waitFor(() => connected(a, c) && connected(b, d), 'the two groups')
    // let every node's first DHT queries end: only what happens next can join the groups
    await new Promise(resolve => setTimeout(resolve, 2_000))
    assert.ok(!connected(a, b) && !connected(c, d), 'the groups met before the bridge joined')

    const bridge = await meshNode()
    await connect(bridge, a)
    await connect(bridge, b)
    const all = [a, b, c, d, bridge]
    const missing = (): string[] => all.flatMap((x, i) => all.slice(i + 1).filter(y => !connected(x, y)).map(y => `${all.indexOf(x)}-${all.indexOf(y)}`))
    await waitFor(() => missing().length === 0, 'a full mesh', 20_000).catch(err => {
      throw new Error(`${err.message}; pairs still apart: ${missing().join(' ')}`)
    })
  })
})
