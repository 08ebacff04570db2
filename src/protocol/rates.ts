/**
 * Rate limits per peer on the chunk protocol: requests and the CIDs named
 * in them, per second (libp2p's RateLimiter, a fixed window per peer). A
 * peer past either is answered BUSY, the others are served as before.
 */
import { RateLimiter } from '@libp2p/utils'
import { DEFAULT_CIDS_PER_SECOND, DEFAULT_REQUESTS_PER_SECOND } from './constants.js'

export interface PeerRatesInit {
  /** @default DEFAULT_REQUESTS_PER_SECOND */
  requestsPerSecond?: number
  /** @default DEFAULT_CIDS_PER_SECOND */
  cidsPerSecond?: number
}

export class PeerRates {
  private readonly requests: RateLimiter
  private readonly cids: RateLimiter

  constructor (init: PeerRatesInit = {}) {
    this.requests = new RateLimiter({ points: init.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND, duration: 1, keyPrefix: 'requests' })
    this.cids = new RateLimiter({ points: init.cidsPerSecond ?? DEFAULT_CIDS_PER_SECOND, duration: 1, keyPrefix: 'cids' })
  }

  /** Count one request naming `cids` CIDs from `peer`: undefined when allowed, else the ms until it may ask again. */
  take (peer: string, cids: number): number | undefined {
    try {
      this.requests.consume(peer, 1)
      if (cids > 0) this.cids.consume(peer, cids)
      return undefined
    } catch (err: any) {
      if (err.name !== 'RateLimitError') throw err
      return Math.max(1, Number(err.msBeforeNext ?? 1000))
    }
  }
}
