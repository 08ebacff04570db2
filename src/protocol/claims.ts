/**
 * Claims: an owner's signature that a chunk is its own. The owner signs
 * each chunk it stores; a holder keeps the signature beside its copy and
 * hands it on with the chunk when it moves the copy to another peer (when
 * it reclaims its disk), so that the new holder stores the chunk for that
 * owner without taking the word of the peer that sends it.
 */
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

const CONTEXT = new TextEncoder().encode('backpack/claim/v1\0')

/** The bytes an owner signs for a chunk: a fixed context, then the CID. */
function claimed (cid: CID): Uint8Array {
  const out = new Uint8Array(CONTEXT.byteLength + cid.bytes.byteLength)
  out.set(CONTEXT)
  out.set(cid.bytes, CONTEXT.byteLength)
  return out
}

/** Sign that `cid` is a chunk of the key's owner. */
export async function signClaim (key: PrivateKey, cid: CID): Promise<Uint8Array> {
  return key.sign(claimed(cid))
}

/** Whether `signature` is `owner`'s claim on `cid` (false for a peer id that does not carry its public key). */
export async function verifyClaim (owner: PeerId, cid: CID, signature: Uint8Array): Promise<boolean> {
  if (owner.publicKey == null || signature.byteLength === 0 || signature.byteLength > 1024) return false
  try {
    return await owner.publicKey.verify(claimed(cid), signature)
  } catch {
    return false
  }
}
