//! The block consensus orders: the node's header and the signed transactions, nothing else.
//!
//! The block's consensus digest is the node's header hash (`keccak256(postcard(header))`), so a
//! finalization certificate signs exactly the header whose `state_root` a proof is checked
//! against. The header commits to the transactions through `transactions_root`; the block
//! events and receipts are outputs of execution, recomputed by every validator, so they are not
//! carried.
//!
//! Encoding: one length-prefixed postcard encoding of `(header, transactions)`. Decoding is
//! bounded by the configured block size and canonical: bytes that do not re-encode to
//! themselves are refused, as the engine requires.

use bytes::{BufMut, Bytes};
use commonware_codec::{Buf, Copying, EncodeSize, Error as CodecError, Read, ReadExt as _, Write};
use commonware_consensus::{Heightable, types::Height};
use commonware_cryptography::{Digestible, keccak256};
use infrafi_node::BlockHeader;
use infrafi_tx::SignedTransaction;

/// A block's consensus digest: its header hash.
pub type Digest = keccak256::Digest;

/// The digest of a node block hash.
pub fn digest_of(hash: alloy_primitives::B256) -> Digest {
    Digest::read(&mut Copying(hash.as_slice()))
        .expect("a block hash is 32 bytes, the size of a digest")
}

/// The node block hash of a digest.
pub fn hash_of(digest: &Digest) -> alloy_primitives::B256 {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(digest.as_ref());
    alloy_primitives::B256::from(bytes)
}

/// A block as consensus sees it. See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    header: BlockHeader,
    transactions: Vec<SignedTransaction>,
    digest: Digest,
    encoded: Bytes,
}

impl Block {
    /// The block of `header` and its `transactions`.
    pub fn new(header: BlockHeader, transactions: Vec<SignedTransaction>) -> Block {
        let encoded = Bytes::from(
            postcard::to_stdvec(&(&header, &transactions))
                .expect("block encoding cannot fail: every type is plain data"),
        );
        let digest = digest_of(header.hash());
        Block { header, transactions, digest, encoded }
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The transactions, in execution order.
    pub fn transactions(&self) -> &[SignedTransaction] {
        &self.transactions
    }

    /// The size of the block's encoding (without the length prefix).
    pub fn size_bytes(&self) -> usize {
        self.encoded.len()
    }
}

/// The encoded size of one transaction inside a block, for the proposer's size budget.
pub fn transaction_size_bytes(transaction: &SignedTransaction) -> usize {
    postcard::experimental::serialized_size(transaction).unwrap_or(usize::MAX)
}

/// The most bytes a block's header and length prefixes take besides its transactions.
pub const BLOCK_OVERHEAD_BYTES: usize = 512;

impl Digestible for Block {
    type Digest = Digest;

    fn digest(&self) -> Digest {
        self.digest
    }
}

impl Heightable for Block {
    fn height(&self) -> Height {
        Height::new(self.header.height)
    }
}

impl commonware_consensus::Block for Block {
    fn parent(&self) -> Digest {
        digest_of(self.header.parent_hash)
    }
}

impl Write for Block {
    fn write(&self, buf: &mut impl BufMut) {
        self.encoded.write(buf);
    }
}

impl EncodeSize for Block {
    fn encode_size(&self) -> usize {
        self.encoded.encode_size()
    }
}

impl Read for Block {
    /// The largest encoding accepted, in bytes.
    type Cfg = usize;

    fn read_cfg(buf: &mut impl Buf, max_bytes: &usize) -> Result<Block, CodecError> {
        let encoded = Bytes::read_cfg(buf, &(..=*max_bytes).into())?;
        let (header, transactions): (BlockHeader, Vec<SignedTransaction>) =
            postcard::from_bytes(&encoded).map_err(|_| CodecError::Invalid("Block", "postcard"))?;
        let block = Block::new(header, transactions);
        if block.encoded != encoded {
            return Err(CodecError::Invalid("Block", "not the canonical encoding"));
        }
        Ok(block)
    }
}

impl commonware_consensus::BoundedBlock for Block {
    fn max_encode_size(max_bytes: &usize) -> usize {
        // The length prefix is a varint of at most 10 bytes.
        max_bytes + 10
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use alloy_primitives::B256;
    use commonware_codec::{Decode, Encode};
    use infrafi_core::{Action, Amount, Asset, action::Transfer};
    use infrafi_tx::SigningKey;

    fn block() -> Block {
        let key = SigningKey::from_seed("a");
        let action = Action::Transfer(Transfer {
            asset: Asset::Usdai,
            to: key.address(),
            amount: Amount(1),
        });
        let header = BlockHeader {
            chain_id: 1,
            height: 3,
            timestamp: 10,
            parent_hash: B256::repeat_byte(1),
            transactions_root: B256::repeat_byte(2),
            receipts_root: B256::repeat_byte(3),
            state_root: B256::repeat_byte(4),
            transaction_count: 1,
        };
        Block::new(header, vec![key.sign(1, 0, &action)])
    }

    #[test]
    fn a_block_round_trips_and_its_digest_is_its_header_hash() {
        let block = block();
        let decoded = Block::decode_cfg(block.encode(), &1_000_000).unwrap();
        assert_eq!(decoded, block);
        assert_eq!(hash_of(&block.digest()), block.header().hash());
        assert_eq!(hash_of(&commonware_consensus::Block::parent(&block)), B256::repeat_byte(1));
    }

    #[test]
    fn an_oversized_or_non_canonical_block_is_refused() {
        let block = block();
        assert!(Block::decode_cfg(block.encode(), &10).is_err());
        // A trailing byte inside the length-prefixed encoding is not canonical.
        let mut inner = block.encoded.to_vec();
        inner.push(0);
        let padded = Bytes::from(inner).encode();
        assert!(Block::decode_cfg(padded, &1_000_000).is_err());
    }
}
