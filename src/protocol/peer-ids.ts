import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { PeerId } from '@libp2p/interface'

/** Decode peer id bytes from a peer; undefined when malformed. */
export function decodePeerId (bytes: Uint8Array): PeerId | undefined {
  try {
    return peerIdFromMultihash(Digest.decode(bytes.slice()))
  } catch {
    return undefined
  }
}
