#!/usr/bin/env node
import '../util/polyfill.js'
import { main } from './program.js'

// a reader that went away (`backpack ls | head`) ends the command quietly, as ls does
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode as number | undefined ?? 0)
    throw err
  })
}

process.exitCode = await main(process.argv.slice(2))
