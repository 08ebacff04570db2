import type { Route } from './server.js'
import type { Backpack } from '../daemon/backpack.js'

export interface RouteHooks {
  /** Stop the daemon after the answer is sent */
  stop: () => void
}

/** The control API's routes: one per CLI command that talks to the node. */
export function createRoutes (backpack: Backpack, hooks: RouteHooks): Record<string, Route> {
  return {
    status: async () => backpack.status(),
    peers: async () => backpack.peers(),
    stop: async () => {
      hooks.stop()
      return { stopping: true }
    }
  }
}
