//! JSON Schemas of the wire types that are not DTOs of this crate: addresses, hashes and
//! bytes (`0x` hex), events (an open object tagged by `kind`), Merkle proofs. The DTOs name
//! them with `#[schemars(with = ...)]`, so `/openapi.json` describes exactly what is sent.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use std::borrow::Cow;

/// A 20-byte address, `0x` + 40 hex digits (any case; EIP-55 checksummed when sent).
pub(crate) struct Address;

impl JsonSchema for Address {
    fn schema_name() -> Cow<'static, str> {
        "Address".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{40}$",
            "description": "A 20-byte address, 0x-hex.",
        })
    }
}

/// A 32-byte hash, `0x` + 64 hex digits.
pub(crate) struct Hash;

impl JsonSchema for Hash {
    fn schema_name() -> Cow<'static, str> {
        "Hash".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^0x[0-9a-fA-F]{64}$",
            "description": "A 32-byte hash, 0x-hex.",
        })
    }
}

/// Bytes, `0x` hex.
pub(crate) struct HexBytes;

impl JsonSchema for HexBytes {
    fn schema_name() -> Cow<'static, str> {
        "HexBytes".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^0x([0-9a-fA-F]{2})*$",
            "description": "Bytes, 0x-hex.",
        })
    }
}

/// A protocol event: an object whose `kind` names it (`staked`, `redemption_requested`, ...)
/// and whose other fields are that event's (amounts as strings of base units).
pub(crate) struct Event;

impl JsonSchema for Event {
    fn schema_name() -> Cow<'static, str> {
        "Event".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"type": "string"}},
            "additionalProperties": true,
            "description": "A protocol event, named by `kind` (infrafi_core::Event).",
        })
    }
}

/// A Merkle proof (`infrafi_merkle::Proof`).
#[derive(JsonSchema)]
#[allow(dead_code)] // Only its schema is used.
pub(crate) struct MerkleProof {
    /// The sibling hashes along the key's path, from the root down.
    siblings: Vec<Hash>,
    /// The leaf where the path ends, as `[key_hash, value_hash]`; `null` if it ends in an
    /// empty subtree.
    leaf: Option<(Hash, Hash)>,
}
