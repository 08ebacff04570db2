// Runs every compiled test file under dist/test with node's test runner.
// Node 20's `--test` takes no globs, so the files are listed here.
// TEST_FILTER=substring narrows the run; TEST_CONCURRENCY sets files run at once.
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

function find (dir) {
  let out = []
  let names
  try { names = readdirSync(dir) } catch { return out }
  for (const name of names.sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out = out.concat(find(path))
    else if (name.endsWith('.test.js')) out.push(path)
  }
  return out
}

const filter = process.env.TEST_FILTER ?? ''
const files = find('dist/test').filter(f => f.includes(filter))
if (files.length === 0) {
  console.error(`no test files match ${JSON.stringify(filter)}`)
  process.exit(1)
}
const args = [
  '--import', './dist/src/util/polyfill.js',
  '--test',
  `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '1'}`,
  '--test-reporter=spec',
  ...files
]
const result = spawnSync(process.execPath, args, { stdio: 'inherit' })
process.exit(result.status ?? 1)
