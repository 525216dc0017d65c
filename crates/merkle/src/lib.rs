//! infrafi-merkle: a binary sparse Merkle tree with leaf shortcuts, keyed by
//! `keccak256(leaf key)`; the state root of infrafi and its proofs.
//!
//! Shape. A leaf sits at the shallowest depth where it is alone in its subtree, so the tree is
//! about `log2(n)` deep and its shape depends only on the set of leaves, never on the order of
//! inserts. Hashes, with a domain byte so a leaf can never pass for an inner node:
//! - empty subtree: 32 zero bytes;
//! - leaf: `keccak256(0x00 || key_hash || value_hash)`, `value_hash = keccak256(value)`;
//! - inner node: `keccak256(0x01 || left || right)`.
//!
//! Versions. Nodes are shared behind `Arc`s and never mutated once shared, so a clone of a
//! [`Tree`] is an O(1) snapshot: the node keeps recent versions to prove against recent roots
//! while the next block updates its own copy. A batch update rehashes each touched node once.

use alloy_primitives::{B256, keccak256};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The root of an empty tree.
pub const EMPTY_ROOT: B256 = B256::ZERO;

const LEAF_DOMAIN: u8 = 0x00;
const NODE_DOMAIN: u8 = 0x01;
/// Key hashes are 256 bits, so no path is longer.
const DEPTH_MAX: usize = 256;

/// The hash of a leaf.
pub fn leaf_hash(key_hash: B256, value_hash: B256) -> B256 {
    let mut bytes = [0u8; 65];
    bytes[0] = LEAF_DOMAIN;
    bytes[1..33].copy_from_slice(key_hash.as_slice());
    bytes[33..].copy_from_slice(value_hash.as_slice());
    keccak256(bytes)
}

/// The hash of an inner node.
pub fn node_hash(left: B256, right: B256) -> B256 {
    let mut bytes = [0u8; 65];
    bytes[0] = NODE_DOMAIN;
    bytes[1..33].copy_from_slice(left.as_slice());
    bytes[33..].copy_from_slice(right.as_slice());
    keccak256(bytes)
}

/// Bit `depth` of `key`, most significant first.
fn bit(key: &B256, depth: usize) -> bool {
    (key[depth / 8] >> (7 - depth % 8)) & 1 == 1
}

#[derive(Debug)]
enum Node {
    Leaf { key_hash: B256, value_hash: B256, hash: B256 },
    Inner { left: Option<Arc<Node>>, right: Option<Arc<Node>>, hash: B256 },
}

impl Node {
    fn hash(&self) -> B256 {
        match self {
            Node::Leaf { hash, .. } | Node::Inner { hash, .. } => *hash,
        }
    }

    fn leaf(key_hash: B256, value_hash: B256) -> Arc<Node> {
        Arc::new(Node::Leaf { key_hash, value_hash, hash: leaf_hash(key_hash, value_hash) })
    }
}

fn hash_of(node: &Option<Arc<Node>>) -> B256 {
    node.as_ref().map_or(EMPTY_ROOT, |n| n.hash())
}

/// Joins two subtrees under an inner node, keeping the canonical shape: a lone leaf moves up.
fn join(left: Option<Arc<Node>>, right: Option<Arc<Node>>) -> Option<Arc<Node>> {
    match (&left, &right) {
        (None, None) => None,
        (Some(only), None) | (None, Some(only)) if matches!(**only, Node::Leaf { .. }) => {
            Some(only.clone())
        }
        _ => {
            let hash = node_hash(hash_of(&left), hash_of(&right));
            Some(Arc::new(Node::Inner { left, right, hash }))
        }
    }
}

/// Builds the subtree at `depth` of `leaves` (sorted by key hash, unique).
fn build(depth: usize, leaves: &[(B256, B256)]) -> Option<Arc<Node>> {
    match leaves {
        [] => None,
        [(key_hash, value_hash)] => Some(Node::leaf(*key_hash, *value_hash)),
        _ => {
            assert!(depth < DEPTH_MAX, "two leaves share a 256-bit key hash");
            let split = leaves.partition_point(|(key, _)| !bit(key, depth));
            join(build(depth + 1, &leaves[..split]), build(depth + 1, &leaves[split..]))
        }
    }
}

/// The hash of the subtree at `depth` of `leaves` (sorted by key hash, unique) as [`build`]
/// would make it, without making its nodes, and whether that subtree is a lone leaf (which
/// moves up).
fn subtree_root(depth: usize, leaves: &[(B256, B256)]) -> Option<(B256, bool)> {
    match leaves {
        [] => None,
        [(key_hash, value_hash)] => Some((leaf_hash(*key_hash, *value_hash), true)),
        _ => {
            assert!(depth < DEPTH_MAX, "two leaves share a 256-bit key hash");
            let split = leaves.partition_point(|(key, _)| !bit(key, depth));
            let left = subtree_root(depth + 1, &leaves[..split]);
            let right = subtree_root(depth + 1, &leaves[split..]);
            match (left, right) {
                (None, None) => None,
                (Some(only), None) | (None, Some(only)) if only.1 => Some(only),
                (left, right) => Some((
                    node_hash(left.map_or(EMPTY_ROOT, |l| l.0), right.map_or(EMPTY_ROOT, |r| r.0)),
                    false,
                )),
            }
        }
    }
}

/// The root of the tree of `leaves`, given as `(key hash, value hash)` (keys unique; later
/// duplicates are dropped), without building the tree: what a root over a block's transactions
/// or receipts needs, equal to `Tree::from_leaves(..).root()` of the same leaves.
pub fn root_of_hashed(mut leaves: Vec<(B256, B256)>) -> B256 {
    leaves.sort_unstable_by_key(|a| a.0);
    leaves.dedup_by(|a, b| a.0 == b.0);
    subtree_root(0, &leaves).map_or(EMPTY_ROOT, |(hash, _)| hash)
}

/// Applies `changes` (sorted by key hash, unique; `None` removes) to the subtree at `depth`.
fn update(
    node: Option<Arc<Node>>,
    depth: usize,
    changes: &[(B256, Option<B256>)],
) -> Option<Arc<Node>> {
    if changes.is_empty() {
        return node;
    }
    match node.as_deref() {
        None => {
            let leaves: Vec<(B256, B256)> =
                changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            build(depth, &leaves)
        }
        Some(Node::Leaf { key_hash, value_hash, .. }) => {
            let mut leaves: Vec<(B256, B256)> =
                changes.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            if changes.binary_search_by(|(k, _)| k.cmp(key_hash)).is_err() {
                let at = leaves.partition_point(|(k, _)| k < key_hash);
                leaves.insert(at, (*key_hash, *value_hash));
            }
            build(depth, &leaves)
        }
        Some(Node::Inner { left, right, .. }) => {
            assert!(depth < DEPTH_MAX, "an inner node below the deepest level");
            let split = changes.partition_point(|(key, _)| !bit(key, depth));
            let left = update(left.clone(), depth + 1, &changes[..split]);
            let right = update(right.clone(), depth + 1, &changes[split..]);
            join(left, right)
        }
    }
}

/// A proof that a key has a value, or has none, under a root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The sibling hashes along the key's path, from the root down.
    pub siblings: Vec<B256>,
    /// The leaf where the path ends, as `(key_hash, value_hash)`; `None` if it ends in an
    /// empty subtree. For a proof of absence it may be another key's leaf.
    pub leaf: Option<(B256, B256)>,
}

/// Why a proof does not check out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProofError {
    /// The proof ends at a leaf of another key, or at no leaf, but a value was claimed.
    ValueNotProven,
    /// The proof shows a value, but absence was claimed.
    AbsenceNotProven,
    /// The proof's terminal leaf is not on the key's path.
    LeafOffPath,
    /// The path is longer than any key.
    PathTooLong,
    /// The hashes do not lead to the root.
    RootMismatch {
        /// The root the proof leads to.
        computed: B256,
    },
}

impl std::fmt::Display for ProofError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProofError::ValueNotProven => f.write_str("the proof does not show the claimed value"),
            ProofError::AbsenceNotProven => f.write_str("the proof shows a value for the key"),
            ProofError::LeafOffPath => f.write_str("the proof's leaf is not on the key's path"),
            ProofError::PathTooLong => f.write_str("the proof's path is longer than 256"),
            ProofError::RootMismatch { computed } => {
                write!(f, "the proof leads to root {computed}, not to the expected root")
            }
        }
    }
}

impl std::error::Error for ProofError {}

impl Proof {
    /// Checks that under `root`, `key_hash` has the value whose hash is `value_hash`, or no
    /// value if `value_hash` is `None`.
    pub fn verify(
        &self,
        root: B256,
        key_hash: B256,
        value_hash: Option<B256>,
    ) -> Result<(), ProofError> {
        let depth = self.siblings.len();
        if depth > DEPTH_MAX {
            return Err(ProofError::PathTooLong);
        }
        match (value_hash, self.leaf) {
            (Some(value_hash), Some(leaf)) if leaf == (key_hash, value_hash) => {}
            (Some(_), _) => return Err(ProofError::ValueNotProven),
            (None, Some((other, _))) if other == key_hash => {
                return Err(ProofError::AbsenceNotProven);
            }
            (None, Some((other, _))) => {
                if (0..depth).any(|d| bit(&other, d) != bit(&key_hash, d)) {
                    return Err(ProofError::LeafOffPath);
                }
            }
            (None, None) => {}
        }
        let mut hash = self.leaf.map_or(EMPTY_ROOT, |(k, v)| leaf_hash(k, v));
        for (depth, sibling) in self.siblings.iter().enumerate().rev() {
            hash = if bit(&key_hash, depth) {
                node_hash(*sibling, hash)
            } else {
                node_hash(hash, *sibling)
            };
        }
        if hash != root {
            return Err(ProofError::RootMismatch { computed: hash });
        }
        Ok(())
    }

    /// [`Proof::verify`] from the raw leaf key and value bytes.
    pub fn verify_leaf(
        &self,
        root: B256,
        leaf_key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<(), ProofError> {
        self.verify(root, keccak256(leaf_key), value.map(keccak256))
    }
}

/// A versioned sparse Merkle tree; cloning it is an O(1) snapshot.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    root: Option<Arc<Node>>,
    len: usize,
}

impl Tree {
    /// The tree of `leaves` (`(leaf key, value)` pairs, keys unique).
    pub fn from_leaves<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        leaves: impl IntoIterator<Item = (K, V)>,
    ) -> Tree {
        let mut hashed: Vec<(B256, B256)> = leaves
            .into_iter()
            .map(|(k, v)| (keccak256(k.as_ref()), keccak256(v.as_ref())))
            .collect();
        hashed.sort_unstable_by_key(|a| a.0);
        hashed.dedup_by(|a, b| a.0 == b.0);
        Tree { root: build(0, &hashed), len: hashed.len() }
    }

    /// The root hash.
    pub fn root(&self) -> B256 {
        hash_of(&self.root)
    }

    /// The number of leaves.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets or removes (`None`) the value of each leaf key; later entries win.
    pub fn apply<K: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        changes: impl IntoIterator<Item = (K, Option<V>)>,
    ) {
        let mut hashed: Vec<(B256, Option<B256>)> = changes
            .into_iter()
            .map(|(k, v)| (keccak256(k.as_ref()), v.map(|v| keccak256(v.as_ref()))))
            .collect();
        // Stable sort, then keep the last change of each key.
        hashed.sort_by_key(|a| a.0);
        let mut unique: Vec<(B256, Option<B256>)> = Vec::with_capacity(hashed.len());
        for change in hashed {
            match unique.last_mut() {
                Some(last) if last.0 == change.0 => *last = change,
                _ => unique.push(change),
            }
        }
        for (key, value) in &unique {
            let present = self.value_hash(*key).is_some();
            match (present, value.is_some()) {
                (false, true) => self.len += 1,
                (true, false) => self.len -= 1,
                _ => {}
            }
        }
        self.root = update(self.root.take(), 0, &unique);
    }

    /// The value hash stored under `key_hash`.
    pub fn value_hash(&self, key_hash: B256) -> Option<B256> {
        match self.prove_hashed(key_hash).leaf {
            Some((k, v)) if k == key_hash => Some(v),
            _ => None,
        }
    }

    /// A proof for the leaf key `leaf_key` (of its value, or of its absence).
    pub fn prove(&self, leaf_key: &[u8]) -> Proof {
        self.prove_hashed(keccak256(leaf_key))
    }

    /// A proof for the key hash `key_hash`.
    pub fn prove_hashed(&self, key_hash: B256) -> Proof {
        let mut siblings = Vec::new();
        let mut node = self.root.as_ref();
        let mut depth = 0;
        loop {
            match node.map(|n| &**n) {
                None => return Proof { siblings, leaf: None },
                Some(Node::Leaf { key_hash, value_hash, .. }) => {
                    return Proof { siblings, leaf: Some((*key_hash, *value_hash)) };
                }
                Some(Node::Inner { left, right, .. }) => {
                    let (next, sibling) =
                        if bit(&key_hash, depth) { (right, left) } else { (left, right) };
                    siblings.push(hash_of(sibling));
                    node = next.as_ref();
                    depth += 1;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn key(i: u32) -> Vec<u8> {
        format!("key-{i}").into_bytes()
    }

    #[test]
    fn an_empty_tree_has_the_zero_root_and_proves_absence() {
        let tree = Tree::default();
        assert_eq!(tree.root(), EMPTY_ROOT);
        tree.prove(b"x").verify_leaf(tree.root(), b"x", None).unwrap();
    }

    #[test]
    fn a_single_leaf_is_the_root() {
        let tree = Tree::from_leaves([(b"k".as_slice(), b"v".as_slice())]);
        assert_eq!(tree.root(), leaf_hash(keccak256(b"k"), keccak256(b"v")));
        let proof = tree.prove(b"k");
        assert!(proof.siblings.is_empty());
        proof.verify_leaf(tree.root(), b"k", Some(b"v")).unwrap();
        assert_eq!(
            proof.verify_leaf(tree.root(), b"k", Some(b"w")),
            Err(ProofError::ValueNotProven)
        );
        tree.prove(b"other").verify_leaf(tree.root(), b"other", None).unwrap();
    }

    #[test]
    fn proofs_of_every_leaf_and_of_absent_keys_verify_and_wrong_claims_fail() {
        let leaves: Vec<(Vec<u8>, Vec<u8>)> =
            (0..300).map(|i| (key(i), format!("value-{i}").into_bytes())).collect();
        let tree = Tree::from_leaves(leaves.clone());
        assert_eq!(tree.len(), 300);
        for (k, v) in &leaves {
            let proof = tree.prove(k);
            proof.verify_leaf(tree.root(), k, Some(v)).unwrap();
            assert!(proof.verify_leaf(tree.root(), k, None).is_err());
            assert!(proof.verify_leaf(tree.root(), k, Some(b"forged")).is_err());
            assert!(proof.verify_leaf(B256::repeat_byte(7), k, Some(v)).is_err());
        }
        for i in 300..400 {
            let proof = tree.prove(&key(i));
            proof.verify_leaf(tree.root(), &key(i), None).unwrap();
            assert!(proof.verify_leaf(tree.root(), &key(i), Some(b"x")).is_err());
        }
    }

    #[test]
    fn a_snapshot_keeps_its_root_while_the_tree_moves_on() {
        let mut tree = Tree::from_leaves((0..50).map(|i| (key(i), key(i))));
        let snapshot = tree.clone();
        let root = snapshot.root();
        tree.apply([(key(1), None::<Vec<u8>>), (key(99), Some(key(99)))]);
        assert_ne!(tree.root(), root);
        assert_eq!(snapshot.root(), root);
        snapshot.prove(&key(1)).verify_leaf(root, &key(1), Some(&key(1))).unwrap();
        tree.prove(&key(1)).verify_leaf(tree.root(), &key(1), None).unwrap();
    }

    proptest! {
        #[test]
        fn incremental_updates_give_the_root_of_a_fresh_build(
            initial in proptest::collection::btree_map(0u32..200, 0u32..5, 0..60),
            changes in proptest::collection::vec((0u32..200, proptest::option::of(0u32..5)), 0..80),
        ) {
            let mut model: BTreeMap<Vec<u8>, Vec<u8>> =
                initial.iter().map(|(k, v)| (key(*k), key(*v))).collect();
            let mut tree = Tree::from_leaves(model.clone());
            let batch: Vec<(Vec<u8>, Option<Vec<u8>>)> =
                changes.iter().map(|(k, v)| (key(*k), v.map(key))).collect();
            for (k, v) in &batch {
                match v {
                    Some(v) => model.insert(k.clone(), v.clone()),
                    None => model.remove(k),
                };
            }
            tree.apply(batch);
            let fresh = Tree::from_leaves(model.clone());
            prop_assert_eq!(tree.root(), fresh.root());
            prop_assert_eq!(tree.len(), model.len());
        }

        #[test]
        fn a_root_computed_without_the_tree_is_the_root_of_the_tree(
            leaves in proptest::collection::btree_map(0u32..5_000, 0u32..5, 0..300),
        ) {
            let tree = Tree::from_leaves(leaves.iter().map(|(k, v)| (key(*k), key(*v))));
            let hashed: Vec<(B256, B256)> = leaves
                .iter()
                .rev()
                .map(|(k, v)| (keccak256(key(*k)), keccak256(key(*v))))
                .collect();
            prop_assert_eq!(root_of_hashed(hashed), tree.root());
        }
    }
}
