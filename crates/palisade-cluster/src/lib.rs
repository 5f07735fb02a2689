//! Reading a live cluster: connecting from a kubeconfig or in a pod, discovering the resource
//! types that rules read, listing them in pages with bounded concurrency, and folding the
//! findings of objects that a controller owns into their owner.
//!
//! Objects are streamed to the caller as they arrive, one page at a time per resource type, so
//! that a list is never held twice. A resource type that cannot be listed (forbidden, timed
//! out, a server error) becomes a [`ResourceError`] and the others are still listed.

mod connect;
mod discover;
mod list;
mod owners;

pub use connect::{connect, ConnectError, ConnectOptions, Connection};
pub use discover::{discover, DiscoverError, ResourceType};
pub use list::{list, object_url, ListOptions, Listed, ResourceError};
pub use owners::{fold, Owners};
