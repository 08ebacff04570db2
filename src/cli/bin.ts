#!/usr/bin/env -S node --max-semi-space-size=4
// --max-semi-space-size (MiB): V8's young generation of the daemon and of its
// blob workers, 4 instead of 16 (new space 8 instead of 32 MiB per thread).
// Measured (see BENCHMARKS.md): the daemon's peak 25-50 MiB lower in large
// transfers and in a put and restore of 100,000 files, at the same speed.
// Flags cannot be given to V8 from inside once its heap is made.
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
