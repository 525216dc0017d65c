//! The decoders a node feeds with bytes it did not make never panic (issue 18, the campaign's
//! fuzz targets, as proptest properties): the transaction JSON and the signed envelope a client
//! sends, the postcard state a peer or an export hands over, the leaves a state is rebuilt
//! from, and what the store gives back (block headers and bodies, receipts, journal entries,
//! history samples). Each gets random bytes and, more to the point, a valid encoding with a
//! few bytes flipped, cut or inserted: it must answer `Ok` or `Err`, never panic, and whatever
//! it accepts must encode back without panicking.
//!
//! The case count is proptest's default in CI; a long run by hand sets `PROPTEST_CASES`
//! (docs/security.md, "The campaign (in progress)").

use infrafi_core::{
    Action, Amount, Asset, Genesis, State,
    action::{Stake, Transfer},
    ids::USDC,
};
use infrafi_node::{BlockBody, BlockHeader, Receipt, block, history, journal};
use infrafi_tx::{SignedTransaction, SigningKey};
use proptest::prelude::*;
use std::sync::OnceLock;

/// How a valid encoding is damaged.
#[derive(Clone, Debug)]
enum Damage {
    Flip { at: usize, mask: u8 },
    Cut { at: usize },
    Insert { at: usize, byte: u8 },
    Overwrite { at: usize, bytes: Vec<u8> },
}

fn damage() -> impl Strategy<Value = Vec<Damage>> {
    let one = prop_oneof![
        (any::<usize>(), 1u8..).prop_map(|(at, mask)| Damage::Flip { at, mask }),
        any::<usize>().prop_map(|at| Damage::Cut { at }),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Damage::Insert { at, byte }),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..9))
            .prop_map(|(at, bytes)| Damage::Overwrite { at, bytes }),
    ];
    proptest::collection::vec(one, 1..4)
}

fn damaged(valid: &[u8], damage: &[Damage]) -> Vec<u8> {
    let mut bytes = valid.to_vec();
    for step in damage {
        let len = bytes.len().max(1);
        match step {
            Damage::Flip { at, mask } => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte ^= mask;
                }
            }
            Damage::Cut { at } => bytes.truncate(at % len),
            Damage::Insert { at, byte } => bytes.insert((at % len).min(bytes.len()), *byte),
            Damage::Overwrite { at, bytes: new } => {
                for (offset, byte) in new.iter().enumerate() {
                    if let Some(old) = bytes.get_mut((at % len) + offset) {
                        *old = *byte;
                    }
                }
            }
        }
    }
    bytes
}

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| SigningKey::from_seed("fuzz/sender"))
}

/// A state with accounts, balances, a vault position and roles in it.
fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let mut genesis = Genesis::with_admin(SigningKey::from_seed("fuzz/admin").address(), 1_000);
        genesis.stablecoin_balances = (0..8u8)
            .map(|i| {
                (alloy_primitives::Address::repeat_byte(i + 1), USDC, Amount::from_whole(1_000))
            })
            .collect();
        State::from_genesis(&genesis).expect("the genesis is valid")
    })
}

fn signed(nonce: u64) -> SignedTransaction {
    let action = match nonce % 2 {
        0 => Action::Transfer(Transfer {
            asset: Asset::Stablecoin(USDC),
            to: alloy_primitives::Address::repeat_byte(7),
            amount: Amount(nonce as u128 + 1),
        }),
        _ => Action::Stake(Stake {
            assets: Amount::from_whole(nonce as u128 + 1),
            min_shares: Amount(0),
        }),
    };
    key().sign(31_337, nonce, &action)
}

proptest! {
    #[test]
    fn the_transaction_json_and_the_signed_envelope_never_panic(
        nonce in 0u64..1_000,
        damage in damage(),
        noise in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let valid = block::encode_json(&signed(nonce));
        for bytes in [damaged(&valid, &damage), noise] {
            if let Ok(tx) = serde_json::from_slice::<SignedTransaction>(&bytes) {
                // A damaged envelope that still parses is verified or refused, never a panic.
                let _ = block::encode_json(&tx);
                let _ = tx.verify(31_337);
            }
            let _ = serde_json::from_slice::<Action>(&bytes);
        }
    }

    #[test]
    fn the_postcard_state_never_panics(
        damage in damage(),
        noise in proptest::collection::vec(any::<u8>(), 0..1_024),
    ) {
        let valid = state().encode();
        for bytes in [damaged(&valid, &damage), noise] {
            if let Ok(decoded) = State::decode(&bytes) {
                let _ = decoded.encode();
            }
        }
    }

    #[test]
    fn the_leaf_decoder_never_panics(
        leaf in any::<prop::sample::Index>(),
        damage in damage(),
        drop_one in any::<bool>(),
        noise in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..24), proptest::collection::vec(any::<u8>(), 0..24)),
            0..8,
        ),
    ) {
        let mut leaves: Vec<(Vec<u8>, Vec<u8>)> = state()
            .leaves()
            .into_iter()
            .filter_map(|leaf| Some((leaf.key, leaf.value?)))
            .collect();
        let at = leaf.index(leaves.len());
        if drop_one {
            leaves.remove(at);
        } else {
            leaves[at].1 = damaged(&leaves[at].1, &damage);
        }
        if let Ok(decoded) = State::from_leaves(leaves) {
            let _ = decoded.encode();
        }
        let _ = State::from_leaves(noise);
    }

    #[test]
    fn what_the_store_gives_back_never_panics(
        damage in damage(),
        noise in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let tx = signed(3);
        let entry = journal::encode_entry(tx.hash(), 42, &tx).bytes;
        let legacy = [42u64.to_be_bytes().as_slice(), &entry].concat();
        let mut sample = history::Sample { height: 9, timestamp: 1_000, ..Default::default() };
        sample.values.insert("deposit_price".into(), 1_000_000);
        let encodings = [entry, legacy, sample.encode()];
        for valid in encodings {
            for bytes in [damaged(&valid, &damage), noise.clone()] {
                let _ = journal::decode_entry(&bytes);
                let _ = journal::legacy_entry([3; 32], &bytes);
                let _ = history::Sample::decode(&bytes);
                let _ = block::decode::<BlockHeader>(&bytes);
                let _ = block::decode_json::<BlockBody>(&bytes);
                let _ = block::decode_json::<Receipt>(&bytes);
            }
        }
    }
}
