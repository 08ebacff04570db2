import { MAX_CHUNK_SIZE_BYTES } from '../repo/config.js'
import { SEAL_OVERHEAD_BYTES } from '../chunking/cipher.js'

export const CHUNK_PROTOCOL = '/backpack/chunk/1.0.0'

/** Largest message either side reads: one sealed chunk plus framing. */
export const MAX_MESSAGE_BYTES = MAX_CHUNK_SIZE_BYTES + SEAL_OVERHEAD_BYTES + 4096

/** Most CIDs in one HAS, DELETE or RENEW request. */
export const MAX_CIDS_PER_REQUEST = 1024
/**
 * Chunks in one AUDIT request at most: the holder reads each whole and
 * answers with a piece of each (16 KiB), so an answer stays near 1 MiB.
 */
export const MAX_AUDITS_PER_REQUEST = 64
/** Manifests named in one MANIFESTS answer at most (about 40 bytes each) */
export const MAX_MANIFESTS_PER_ANSWER = 50_000

/** Streams a peer may open to us at once, and we to one peer. */
export const MAX_INBOUND_STREAMS = 64
export const MAX_OUTBOUND_STREAMS = 64

/** Streams kept open to one peer for reuse. */
export const DEFAULT_MAX_STREAMS_PER_PEER = 8

/** @default 30 s */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** A server stream with no request for this long is closed. */
export const STREAM_IDLE_TIMEOUT_MS = 60_000
/** A chunk being stored whose bytes stop coming for this long is dropped, and the space reserved for it freed. */
export const STALL_TIMEOUT_MS = 10_000

/**
 * Requests one peer may make per second, and CIDs it may name in them: past
 * either, requests are answered BUSY until the second is over. Far above
 * what a backpack node asks (a repair pass names 1,024 CIDs a request, a
 * put has 8 chunks in flight per peer), well below what a holder can do.
 */
export const DEFAULT_REQUESTS_PER_SECOND = 1000
export const DEFAULT_CIDS_PER_SECOND = 200_000
