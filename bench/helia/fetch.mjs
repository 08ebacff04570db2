// The Helia fetcher: `node fetch.mjs --cid CID --addr MA --out PATH --blocks DIR`.
// Dials the provider directly, fetches the file over bitswap with
// @helia/unixfs `cat` into PATH, prints one JSON line {bytes, ms}.
import '../../dist/src/util/polyfill.js'
import { createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { unixfs } from '@helia/unixfs'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import { createNode, parseArgs } from './node.mjs'

const args = parseArgs(process.argv.slice(2))
const helia = await createNode(args.blocks)
const provider = multiaddr(args.addr)
const started = performance.now()
await helia.libp2p.dial(provider)
const out = createWriteStream(args.out)
let bytes = 0
for await (const buf of unixfs(helia).cat(CID.parse(args.cid), { providers: [provider] })) {
  bytes += buf.byteLength
  if (!out.write(buf)) await once(out, 'drain')
}
out.end()
await once(out, 'finish')
const ms = performance.now() - started
process.stdout.write(JSON.stringify({ bytes, ms }) + '\n')
await helia.stop()
process.exit(0)
