import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

// Where a repo's files are. Kept apart from the repo's keys and locks so
// that CLI commands, which only need the paths, start without loading the
// crypto and libp2p modules.

/** Files and folders of a repo. */
export interface RepoPaths {
  root: string
  config: string
  keys: string
  swarmKey: string
  datastore: string
  chunks: string
  api: string
  token: string
  lock: string
  /** Present while the catalog of a recovered repo is being rebuilt from the network */
  recovering: string
}

export function repoPaths (root: string): RepoPaths {
  return {
    root,
    config: join(root, 'config.json'),
    keys: join(root, 'keys.json'),
    swarmKey: join(root, 'swarm.key'),
    datastore: join(root, 'datastore'),
    chunks: join(root, 'chunks'),
    api: join(root, 'api'),
    token: join(root, 'api.token'),
    lock: join(root, 'repo.lock'),
    recovering: join(root, 'recovering')
  }
}

/** `--repo DIR`, else `BACKPACK_REPO`, else `~/.backpack`. */
export function resolveRepoDir (flag?: string): string {
  return resolve(flag ?? process.env.BACKPACK_REPO ?? join(homedir(), '.backpack'))
}
