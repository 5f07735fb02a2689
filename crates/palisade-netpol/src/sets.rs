//! Interval sets: ports per protocol, and IPv4 address ranges.

use std::fmt::Write as _;

/// A canonical set of closed `u64` intervals (sorted, disjoint, non-adjacent).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IntervalSet(Vec<(u64, u64)>);

impl IntervalSet {
    pub fn empty() -> Self {
        IntervalSet(Vec::new())
    }

    pub fn range(lo: u64, hi: u64) -> Self {
        if lo > hi {
            return Self::empty();
        }
        IntervalSet(vec![(lo, hi)])
    }

    pub fn intervals(&self) -> &[(u64, u64)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn union(&self, other: &Self) -> Self {
        if other.is_empty() {
            return self.clone();
        }
        if self.is_empty() {
            return other.clone();
        }
        let mut all: Vec<(u64, u64)> = self.0.iter().chain(other.0.iter()).copied().collect();
        all.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(all.len());
        for (lo, hi) in all {
            match out.last_mut() {
                Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
                _ => out.push((lo, hi)),
            }
        }
        IntervalSet(out)
    }

    pub fn intersect(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a_lo, a_hi) = self.0[i];
            let (b_lo, b_hi) = other.0[j];
            let lo = a_lo.max(b_lo);
            let hi = a_hi.min(b_hi);
            if lo <= hi {
                out.push((lo, hi));
            }
            if a_hi < b_hi {
                i += 1;
            } else {
                j += 1;
            }
        }
        IntervalSet(out)
    }

    pub fn subtract(&self, other: &Self) -> Self {
        let mut out = Vec::new();
        for &(lo, hi) in &self.0 {
            let mut cur = lo;
            let mut done = false;
            for &(o_lo, o_hi) in &other.0 {
                if o_hi < cur || o_lo > hi {
                    continue;
                }
                if o_lo > cur {
                    out.push((cur, o_lo - 1));
                }
                if o_hi >= hi {
                    done = true;
                    break;
                }
                cur = o_hi + 1;
            }
            if !done {
                out.push((cur, hi));
            }
        }
        IntervalSet(out)
    }

    pub fn is_subset(&self, other: &Self) -> bool {
        let mut others = other.0.iter().peekable();
        self.0.iter().all(|&(lo, hi)| {
            // The first value of [lo, hi] not yet covered by `other`.
            let mut next = lo;
            while let Some(&&(o_lo, o_hi)) = others.peek() {
                if o_hi < next {
                    others.next();
                } else if o_lo > next {
                    return false;
                } else if o_hi >= hi {
                    return true;
                } else {
                    next = o_hi + 1;
                    others.next();
                }
            }
            false
        })
    }

    pub fn contains(&self, value: u64) -> bool {
        self.0.iter().any(|&(lo, hi)| lo <= value && value <= hi)
    }
}

/// Transport protocols a NetworkPolicy can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    pub const ALL: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Sctp];

    pub fn parse(text: &str) -> Option<Protocol> {
        match text.to_ascii_uppercase().as_str() {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }

    fn index(self) -> usize {
        match self {
            Protocol::Tcp => 0,
            Protocol::Udp => 1,
            Protocol::Sctp => 2,
        }
    }
}

pub const MIN_PORT: u64 = 1;
pub const MAX_PORT: u64 = 65535;

/// A set of connections: allowed ports per protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnSet {
    ports: [IntervalSet; 3],
}

impl ConnSet {
    pub fn none() -> Self {
        ConnSet::default()
    }

    pub fn all() -> Self {
        let full = IntervalSet::range(MIN_PORT, MAX_PORT);
        ConnSet {
            ports: [full.clone(), full.clone(), full],
        }
    }

    pub fn single(protocol: Protocol, lo: u64, hi: u64) -> Self {
        let mut set = ConnSet::none();
        set.ports[protocol.index()] = IntervalSet::range(lo.max(MIN_PORT), hi.min(MAX_PORT));
        set
    }

    pub fn ports(&self, protocol: Protocol) -> &IntervalSet {
        &self.ports[protocol.index()]
    }

    pub fn is_empty(&self) -> bool {
        self.ports.iter().all(IntervalSet::is_empty)
    }

    pub fn is_all(&self) -> bool {
        self.ports
            .iter()
            .all(|set| set.intervals() == [(MIN_PORT, MAX_PORT)])
    }

    fn zip(&self, other: &Self, f: impl Fn(&IntervalSet, &IntervalSet) -> IntervalSet) -> Self {
        ConnSet {
            ports: [
                f(&self.ports[0], &other.ports[0]),
                f(&self.ports[1], &other.ports[1]),
                f(&self.ports[2], &other.ports[2]),
            ],
        }
    }

    pub fn union(&self, other: &Self) -> Self {
        self.zip(other, IntervalSet::union)
    }

    pub fn intersect(&self, other: &Self) -> Self {
        self.zip(other, IntervalSet::intersect)
    }

    pub fn subtract(&self, other: &Self) -> Self {
        self.zip(other, IntervalSet::subtract)
    }

    /// Adds the connections of `other`.
    pub fn union_with(&mut self, other: &Self) {
        for (mine, theirs) in self.ports.iter_mut().zip(&other.ports) {
            if !theirs.is_empty() {
                *mine = mine.union(theirs);
            }
        }
    }

    /// Removes the connections of `other`.
    pub fn subtract_with(&mut self, other: &Self) {
        for (mine, theirs) in self.ports.iter_mut().zip(&other.ports) {
            if !mine.is_empty() && !theirs.is_empty() {
                *mine = mine.subtract(theirs);
            }
        }
    }

    pub fn is_subset(&self, other: &Self) -> bool {
        self.ports
            .iter()
            .zip(&other.ports)
            .all(|(a, b)| a.is_subset(b))
    }

    pub fn contains(&self, protocol: Protocol, port: u64) -> bool {
        self.ports[protocol.index()].contains(port)
    }
}

impl std::fmt::Display for ConnSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_all() {
            return f.write_str("All Connections");
        }
        if self.is_empty() {
            return f.write_str("No Connections");
        }
        let mut parts: Vec<String> = Vec::new();
        for protocol in Protocol::ALL {
            let set = self.ports(protocol);
            if set.is_empty() {
                continue;
            }
            let mut text = String::new();
            for (i, &(lo, hi)) in set.intervals().iter().enumerate() {
                if i > 0 {
                    text.push(',');
                }
                if lo == hi {
                    let _ = write!(text, "{lo}");
                } else {
                    let _ = write!(text, "{lo}-{hi}");
                }
            }
            parts.push(format!("{} {}", protocol.as_str(), text));
        }
        parts.sort();
        f.write_str(&parts.join(","))
    }
}

pub const MAX_IP: u64 = 0xffff_ffff;

/// Parses an IPv4 address.
pub fn parse_ipv4(text: &str) -> Option<u64> {
    let mut value: u64 = 0;
    let mut count = 0;
    for part in text.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u64 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        value = value * 256 + octet;
        count += 1;
    }
    (count == 4).then_some(value)
}

/// Parses an IPv4 CIDR (`a.b.c.d/n`) into its address range; host bits are ignored.
pub fn parse_cidr(text: &str) -> Option<IntervalSet> {
    let (addr, len) = text.split_once('/')?;
    let addr = parse_ipv4(addr)?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u32 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    let size = 1u64 << (32 - len);
    let lo = addr & !(size - 1) & MAX_IP;
    Some(IntervalSet::range(lo, lo + size - 1))
}

/// Whether the text looks like an IPv6 address or CIDR.
pub fn is_ipv6(text: &str) -> bool {
    text.contains(':')
}

pub fn ip_to_string(ip: u64) -> String {
    format!(
        "{}.{}.{}.{}",
        (ip >> 24) & 255,
        (ip >> 16) & 255,
        (ip >> 8) & 255,
        ip & 255
    )
}

/// Renders an address set as `a.b.c.d-w.x.y.z` ranges joined by `, `.
pub fn ip_ranges_string(set: &IntervalSet) -> String {
    set.intervals()
        .iter()
        .map(|&(lo, hi)| format!("{}-{}", ip_to_string(lo), ip_to_string(hi)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Splits the whole IPv4 space into the atoms induced by the boundaries of `blocks`: every
/// block is a union of atoms, and adjacent atoms differ in membership of some block.
pub fn ip_atoms(blocks: &[IntervalSet]) -> Vec<IntervalSet> {
    let mut cuts: Vec<u64> = vec![0, MAX_IP + 1];
    for block in blocks {
        for &(lo, hi) in block.intervals() {
            cuts.push(lo);
            cuts.push(hi + 1);
        }
    }
    cuts.sort_unstable();
    cuts.dedup();
    cuts.windows(2)
        .map(|w| IntervalSet::range(w[0], w[1] - 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conn_set_strings() {
        let mut set = ConnSet::single(Protocol::Tcp, 10053, 10054);
        set = set.union(&ConnSet::single(Protocol::Udp, 10053, 10053));
        assert_eq!(set.to_string(), "TCP 10053-10054,UDP 10053");
        let all_but = ConnSet::all().subtract(&ConnSet::single(Protocol::Udp, 5353, 5353));
        assert_eq!(
            all_but.to_string(),
            "SCTP 1-65535,TCP 1-65535,UDP 1-5352,5354-65535"
        );
        assert_eq!(ConnSet::all().to_string(), "All Connections");
    }

    #[test]
    fn subsets() {
        let set = |intervals: &[(u64, u64)]| {
            intervals
                .iter()
                .fold(IntervalSet::empty(), |acc, &(lo, hi)| {
                    acc.union(&IntervalSet::range(lo, hi))
                })
        };
        let outer = set(&[(10, 20), (30, 40)]);
        for (inner, expected) in [
            (set(&[]), true),
            (set(&[(10, 20)]), true),
            (set(&[(12, 15), (31, 40)]), true),
            (set(&[(15, 25)]), false),
            (set(&[(9, 10)]), false),
            (set(&[(12, 15), (39, 41)]), false),
            (set(&[(21, 29)]), false),
            (set(&[(10, 40)]), false),
        ] {
            assert_eq!(inner.is_subset(&outer), expected, "{inner:?}");
            assert_eq!(inner.is_subset(&outer), inner.subtract(&outer).is_empty());
        }
        assert!(!outer.is_subset(&IntervalSet::empty()));
        let tcp = ConnSet::single(Protocol::Tcp, 80, 80);
        assert!(tcp.is_subset(&ConnSet::all()));
        assert!(!ConnSet::all().is_subset(&tcp));
        assert!(ConnSet::all().is_all());
        assert!(!ConnSet::all()
            .subtract(&ConnSet::single(Protocol::Sctp, 1, 1))
            .is_all());
    }

    #[test]
    fn cidr_and_atoms() {
        let block = parse_cidr("10.0.0.0/8").unwrap();
        assert_eq!(ip_ranges_string(&block), "10.0.0.0-10.255.255.255");
        let atoms = ip_atoms(&[block]);
        assert_eq!(atoms.len(), 3);
        assert_eq!(ip_ranges_string(&atoms[0]), "0.0.0.0-9.255.255.255");
        assert!(parse_cidr("10.0.0.0/33").is_none());
    }
}
