//! Inputs for palisade's benchmarks: deterministic synthetic manifest streams and clusters,
//! and a raw YAML parser pass used as the loader's speed reference.
//!
//! Everything here is a pure function of its arguments and a seed, so a benchmark measured on
//! one machine can be rerun on the same bytes anywhere.

pub mod cluster;
pub mod data;
pub mod manifests;
pub mod rng;

use saphyr_parser::{Event, Parser};

/// Runs the YAML parser palisade's loader is built on over `text` and only counts its events:
/// the floor under any loader built on that parser. Returns the number of events, or `None` when
/// the text is not valid YAML.
pub fn raw_parse_events(text: &str) -> Option<usize> {
    let mut parser = Parser::new_from_str(text);
    let mut events = 0;
    loop {
        match parser.next_event()? {
            Ok((Event::StreamEnd, _)) => return Some(events + 1),
            Ok(_) => events += 1,
            Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_parse_counts_events_and_rejects_bad_yaml() {
        // StreamStart, DocumentStart, MappingStart, 2 scalars, MappingEnd, DocumentEnd, StreamEnd.
        assert_eq!(raw_parse_events("a: b\n"), Some(8));
        assert_eq!(raw_parse_events("a: [b\n"), None);
    }
}
