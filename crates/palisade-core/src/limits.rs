/// Explicit limits that keep hostile or broken input from exhausting memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest file read, in bytes. Larger files are reported as an error without being read.
    pub max_file_size: u64,
    /// Deepest nesting of mappings and sequences in one document.
    pub max_depth: usize,
    /// Most nodes that aliases may expand to in one document (defends against "billion laughs").
    pub max_alias_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 64 * 1024 * 1024,
            max_depth: 512,
            max_alias_nodes: 1_000_000,
        }
    }
}
