// A Helia node for the baseline: light Helia (no routing, no gateways),
// libp2p with the same TCP + noise + yamux as backpack, bitswap, and
// filesystem block storage. No DHT, mDNS or bootstrap: peers dial directly.
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { withBitswap } from '@helia/bitswap'
import { withLibp2pLight } from '@helia/libp2p'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { FsBlockstore } from 'blockstore-fs'
import { MemoryDatastore } from 'datastore-core'
import { createHeliaLight } from 'helia'

/** @param {string} blocksDir */
export async function createNode (blocksDir) {
  const blockstore = new FsBlockstore(blocksDir)
  await blockstore.open()
  const helia = withBitswap(withLibp2pLight(createHeliaLight({
    blockstore,
    datastore: new MemoryDatastore()
  }), {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    connectionManager: { allow: ['/ip4/127.0.0.0/ipcidr/8'] }
  }))
  await helia.start()
  return helia
}

/** `--key value` pairs */
export function parseArgs (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1]
  return out
}
