import { readFileSync } from 'node:fs'

/**
 * The Node.js flags a script's first line runs it with
 * (`#!/usr/bin/env -S node --flag …`): what `backpack` and `npx backpack`
 * get. Whoever starts the CLI as `node bin.js …` (the tests, the benchmark)
 * passes these too, so that it runs as a user's does.
 */
export function shebangFlags (script: string): string[] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0]
  const match = /^#!\S*env -S node((?:\s+--\S+)*)\s*$/.exec(first)
  return match == null ? [] : match[1].trim().split(/\s+/).filter(f => f !== '')
}
