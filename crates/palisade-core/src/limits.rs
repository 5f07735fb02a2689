use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use serde_json::Value;

use crate::load::{LoadError, LoadErrorKind};
use crate::object::Object;
use crate::pos::Pos;

/// Explicit limits that keep hostile or broken input from exhausting memory or time.
///
/// Memory is bounded by nodes (scalars, sequences and mappings, alias expansions included): a
/// decoded node costs about 120 to 250 bytes, whatever its text costs (`a,` is two bytes), so a
/// byte limit alone does not bound it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes. Larger files are reported as an error without being read.
    pub max_file_size: u64,
    /// Deepest nesting of mappings and sequences in one document.
    pub max_depth: usize,
    /// Most nodes that aliases may expand to in one document (defends against "billion laughs").
    pub max_alias_nodes: usize,
    /// Most nodes decoded from one file, all its documents together. Decoding stops at the node
    /// that crosses it and the whole file is refused with one error (see [`NodeBudget::file`]).
    pub max_file_nodes: usize,
    /// Most nodes of the objects that one run holds until its end (objects kept for rules that
    /// read the whole input). A file whose objects would cross it is refused with one error and
    /// its objects are dropped (see [`NodeBudget::run`]).
    pub max_run_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 64 * 1024 * 1024,
            max_depth: 512,
            max_alias_nodes: 1_000_000,
            max_file_nodes: 1_000_000,
            max_run_nodes: 5_000_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    File,
    Run,
}

/// A count of nodes against a limit, shared by the threads that decode one file (its chunks are
/// decoded in parallel) or that load the files of one run.
#[derive(Debug)]
pub struct NodeBudget {
    limit: usize,
    used: AtomicUsize,
    /// Where the node that crossed a file budget was decoded.
    crossed: OnceLock<Pos>,
    scope: Scope,
}

impl NodeBudget {
    /// The budget of one file: [`Limits::max_file_nodes`] nodes decoded, counted by the decoder
    /// as it goes, so that it stops at the node that crosses the limit instead of decoding the
    /// rest of the file. Once spent, [`NodeBudget::error`] is the file's only result.
    pub fn file(limits: &Limits) -> Self {
        NodeBudget::new(limits.max_file_nodes, Scope::File)
    }

    /// The budget of one run: [`Limits::max_run_nodes`] nodes of the objects held until the end
    /// of the run, charged one file at a time with [`NodeBudget::hold`].
    pub fn run(limits: &Limits) -> Self {
        NodeBudget::new(limits.max_run_nodes, Scope::Run)
    }

    fn new(limit: usize, scope: Scope) -> Self {
        NodeBudget {
            limit,
            used: AtomicUsize::new(0),
            crossed: OnceLock::new(),
            scope,
        }
    }

    /// Nodes charged so far.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Whether more nodes than the limit were charged.
    pub fn is_spent(&self) -> bool {
        self.used() > self.limit
    }

    /// Adds `nodes` and returns the new total; the first charge that crosses the limit records
    /// `pos` as the place where it was crossed.
    pub(crate) fn charge(&self, nodes: usize, pos: Pos) -> usize {
        let before = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_add(nodes))
            })
            .unwrap_or_else(|used| used);
        let after = before.saturating_add(nodes);
        if before <= self.limit && after > self.limit {
            let _ = self.crossed.set(pos);
        }
        after
    }

    /// Takes back nodes charged for work that is thrown away and done again.
    pub(crate) fn release(&self, nodes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(nodes))
            });
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The error for a file whose budget is spent: at the node that crossed the limit, naming
    /// the limit and the flag that raises it. `None` while the budget holds.
    pub fn error(&self, file: &str) -> Option<LoadError> {
        if !self.is_spent() {
            return None;
        }
        let pos = self.crossed.get().copied().unwrap_or(Pos::new(1, 1));
        Some(self.limit_error(file, pos))
    }

    fn limit_error(&self, file: &str, pos: Pos) -> LoadError {
        let limit = self.limit;
        let message = match self.scope {
            Scope::File => format!(
                "the file decodes to more than {limit} YAML nodes (--max-file-nodes); \
                 raise --max-file-nodes to scan it"
            ),
            Scope::Run => format!(
                "the objects held for this run would exceed {limit} YAML nodes \
                 (--max-run-nodes); raise --max-run-nodes to scan this file"
            ),
        };
        LoadError {
            file: file.to_owned(),
            pos,
            kind: LoadErrorKind::Limit,
            message,
        }
    }

    /// Charges the nodes of a file's objects that the run keeps until its end. When they do not
    /// fit, nothing is charged and the error (at the first object) says so: the caller drops
    /// the objects, so other files may still fit.
    pub fn hold(&self, objects: &[Object]) -> Result<(), LoadError> {
        let Some(first) = objects.first() else {
            return Ok(());
        };
        self.hold_nodes(held_nodes(objects), &first.source.path, first.locate(""))
    }

    /// [`NodeBudget::hold`] for objects of `nodes` nodes in all, the first of them in `file` at
    /// `pos`.
    pub fn hold_nodes(&self, nodes: usize, file: &str, pos: Pos) -> Result<(), LoadError> {
        let fits = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(nodes).filter(|&after| after <= self.limit)
            });
        match fits {
            Ok(_) => Ok(()),
            Err(_) => Err(self.limit_error(file, pos)),
        }
    }
}

/// The nodes of a value: every scalar, sequence and mapping in it.
pub fn value_nodes(value: &Value) -> usize {
    count_nodes(value, &mut Vec::new())
}

/// [`value_nodes`], with a stack that the caller reuses.
fn count_nodes<'v>(value: &'v Value, stack: &mut Vec<&'v Value>) -> usize {
    let mut count = 0usize;
    stack.clear();
    stack.push(value);
    while let Some(value) = stack.pop() {
        count += 1;
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    count
}

/// Objects held at once from one file above which [`NodeBudget::hold`] counts their nodes on
/// several threads: it runs once the file is decoded, when the other threads wait.
const PARALLEL_HOLD: usize = 10_000;

/// The nodes of all `objects`.
fn held_nodes(objects: &[Object]) -> usize {
    let count = |objects: &[Object]| {
        let mut stack = Vec::new();
        objects.iter().fold(0usize, |sum, o| {
            sum.saturating_add(count_nodes(&o.value, &mut stack))
        })
    };
    if objects.len() < PARALLEL_HOLD {
        return count(objects);
    }
    // Read once: the standard library reads the cgroup's CPU quota on every call.
    static THREADS: OnceLock<usize> = OnceLock::new();
    let threads =
        *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads < 2 {
        return count(objects);
    }
    let per = objects.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let others: Vec<_> = objects
            .chunks(per)
            .skip(1)
            .map(|part| scope.spawn(move || count(part)))
            .collect();
        let first = count(&objects[..per]);
        others.into_iter().fold(first, |sum, other| {
            let nodes = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            sum.saturating_add(nodes)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_held_at_once_are_counted_on_several_threads_as_on_one() {
        let text: String =
            (0..PARALLEL_HOLD + 7)
                .map(|i| {
                    format!(
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {}\n",
                    if i % 3 == 0 { "{a: '1', b: [x, y]}" } else { "{}" }
                )
                })
                .collect();
        let loaded = crate::load_str(&text, "s.yaml", &Limits::default());
        assert_eq!(loaded.objects.len(), PARALLEL_HOLD + 7);
        let one_by_one: usize = loaded.objects.iter().map(|o| value_nodes(&o.value)).sum();
        assert_eq!(held_nodes(&loaded.objects), one_by_one);
        assert_eq!(held_nodes(&loaded.objects[..3]), 10 + 6 + 6);
    }
}
