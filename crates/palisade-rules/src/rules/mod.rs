//! Every rule, one file each, grouped by area.

use crate::Rule;

pub static ALL: &[&dyn Rule] = &[];
