//! Function ids by name.
//!
//! A hash table of (hash, id) pairs; the names stay in the function table. Growing it moves
//! 16-byte entries without reading a single name again. A map keyed by the names rehashed
//! every name when it doubled, which held the engine for 15 ms at 114,688 functions (one
//! worker registering 200k names).

use hashbrown::HashTable;
use std::hash::BuildHasher;

use super::Function;

#[derive(Default)]
pub(super) struct FunctionNames {
    table: HashTable<(u64, u32)>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl FunctionNames {
    fn hash(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    /// The id of function `name`, whose entry in `functions` carries that name.
    pub(super) fn get(&self, functions: &[Function], name: &[u8]) -> Option<u32> {
        let hash = self.hash(name);
        let named = |&(h, id): &(u64, u32)| h == hash && functions[id as usize].name[..] == *name;
        self.table.find(hash, named).map(|&(_, id)| id)
    }

    /// Adds `name` as function `id`; the name must not be present.
    pub(super) fn insert(&mut self, name: &[u8], id: u32) {
        let hash = self.hash(name);
        self.table.insert_unique(hash, (hash, id), |&(h, _)| h);
    }

    /// Removes function `id`, named `name`.
    pub(super) fn remove(&mut self, name: &[u8], id: u32) -> bool {
        let hash = self.hash(name);
        match self.table.find_entry(hash, |&entry| entry == (hash, id)) {
            Ok(entry) => {
                entry.remove();
                true
            }
            Err(_) => false,
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// The ids of every function, in no particular order.
    pub(super) fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.table.iter().map(|&(_, id)| id)
    }

    /// Gives memory back once at most a quarter of it is used.
    pub(super) fn shrink_if_sparse(&mut self) {
        if self.table.capacity() > 4 * self.table.len().max(256) {
            self.table.shrink_to_fit(|&(h, _)| h);
        }
    }
}
