// The Helia provider: `node add.mjs --file PATH --blocks DIR`. Adds the file
// with @helia/unixfs, prints one JSON line {cid, addrs, addMs}, then serves
// its blocks over bitswap until stdin closes or SIGTERM.
import '../../dist/src/util/polyfill.js'
import { createReadStream } from 'node:fs'
import { unixfs } from '@helia/unixfs'
import { createNode, parseArgs } from './node.mjs'

const args = parseArgs(process.argv.slice(2))
const helia = await createNode(args.blocks)
const fs = unixfs(helia)
const started = performance.now()
const cid = await fs.addByteStream(createReadStream(args.file))
const addMs = performance.now() - started
process.stdout.write(JSON.stringify({
  cid: cid.toString(),
  addrs: helia.libp2p.getMultiaddrs().map(ma => ma.toString()),
  addMs
}) + '\n')

let stopping = false
async function stop () {
  if (stopping) return
  stopping = true
  await helia.stop()
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.stdin.on('end', () => { void stop() })
process.stdin.resume()
