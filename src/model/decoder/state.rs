//! The cached decoder's state: its rows in groups that step in parallel, each group with one
//! [`RingCache`] per layer; and the copies of single rows that beam search's forks need.

use super::ring::{Dims, RingCache, RowSlots};

/// The decoding state: the groups of rows that step in parallel.
pub struct KvState {
    pub(super) groups: Vec<Group>,
}

/// One [`RingCache`] per layer for a group of rows, and each row's position.
pub(super) struct Group {
    pub(super) layers: Vec<RingCache>,
    /// Per row: positions fed so far.
    pub(super) seen: Vec<usize>,
}

/// A copy of one row's decoding state: every layer's written cache slots and its position.
pub(super) struct RowCopy {
    layers: Vec<RowSlots>,
    seen: usize,
}

impl KvState {
    /// The first row of each group, and the row count at the end.
    pub(super) fn starts(&self) -> Vec<usize> {
        let mut starts = vec![0];
        starts.extend(self.groups.iter().scan(0, |acc, g| {
            *acc += g.seen.len();
            Some(*acc)
        }));
        starts
    }

    /// The group holding global row `row`, and the row's index in it.
    fn locate(&self, row: usize) -> (usize, usize) {
        let mut local = row;
        for (g, group) in self.groups.iter().enumerate() {
            if local < group.seen.len() {
                return (g, local);
            }
            local -= group.seen.len();
        }
        (self.groups.len(), local)
    }

    /// A copy of global row `row`; `dims` gives a group's shapes from its row count.
    pub(super) fn copy_row(&self, row: usize, dims: impl Fn(usize) -> Dims) -> RowCopy {
        let (g, local) = self.locate(row);
        let group = &self.groups[g];
        let dims = dims(group.seen.len());
        let seen = group.seen[local];
        RowCopy {
            layers: group
                .layers
                .iter()
                .map(|c| c.row(dims, local, seen))
                .collect(),
            seen,
        }
    }

    /// Makes global row `row` the state `copy` holds.
    pub(super) fn paste_row(&mut self, row: usize, copy: &RowCopy, dims: impl Fn(usize) -> Dims) {
        let (g, local) = self.locate(row);
        let group = &mut self.groups[g];
        let dims = dims(group.seen.len());
        for (cache, kv) in group.layers.iter_mut().zip(&copy.layers) {
            cache.set_row(dims, local, kv);
        }
        group.seen[local] = copy.seen;
    }
}
