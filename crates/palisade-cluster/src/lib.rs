//! Reading a live cluster: connecting from a kubeconfig or in a pod, discovering the resource
//! types that rules read, listing them in pages with bounded concurrency, and folding the
//! findings of objects that a controller owns into their owner.
//!
//! Objects are streamed to the caller as they arrive, one page at a time per resource type, so
//! that a list is never held twice. A resource type that cannot be listed (forbidden, timed
//! out, a server error) becomes a [`ResourceError`] and the others are still listed.

mod connect;
mod discover;
mod health;
mod lease;
mod list;
mod owners;
mod report;
mod watch;

pub use connect::{connect, ConnectError, ConnectOptions, Connection};
pub use discover::{discover, DiscoverError, Discovered, ResourceType};
pub use health::{serve_health, Health};
pub use lease::Lease;
pub use list::{list, object_url, ListOptions, Listed, ResourceError};
pub use owners::{fold, fold_with, inventory_order, OrderKey, OrderKeys, Owners, Present};
pub use report::{policy_report, policy_reports, Publisher};
pub use watch::{watch, Change, WatchOptions};
