//! Core of palisade: loading Kubernetes manifests with exact source positions, the object model
//! and the typed views that every rule and engine shares.
//!
//! Objects are [`serde_json::Value`]s, exactly what the API server would see after decoding the
//! YAML, plus a [`SpanNode`] tree that mirrors the value and gives the line and column of every
//! key and value. Rules address fields with JSON pointers; [`Object::locate`] turns a pointer into
//! a position, falling back to the nearest existing parent when the field is missing.

mod fast;
mod frozen;
mod limits;
mod load;
mod names;
mod object;
pub mod pointer;
mod pos;
mod redact;
pub mod selector;
mod stream;
pub mod views;
mod yaml;

pub use frozen::Frozen;
pub use limits::{value_nodes, Limits, NodeBudget};
pub use load::{
    check_text, decode_first_document, empty_error, load_bytes, load_chunk, load_path, load_str,
    load_str_with, read_path, split_stream, Chunk, DuplicateKey, Entry, LoadError, LoadErrorKind,
    Loaded,
};
pub use names::nearest;
pub use object::{Fields, Object, ObjectRef, Source};
pub use pos::{Pos, SpanNode};
pub use redact::{mask, Redactor, MIN_SECRET_CHARS};
pub use stream::{Batch, ChunkReader};
pub use yaml::Decoding;
pub mod patch;
pub mod rule;
