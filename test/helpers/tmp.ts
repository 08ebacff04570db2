import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temp dir; `cleanup()` removes it (call it in `finally` or `after`). */
export async function tempDir (prefix = 'backpack-test-'): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: async () => rm(dir, { recursive: true, force: true }) }
}
