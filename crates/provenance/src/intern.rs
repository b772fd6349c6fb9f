//! Ids kept once: each id a party chose gets a slot number, its bytes are
//! appended to one buffer, and a table of slot numbers finds it again. A
//! value per slot sits in a vector. About 40 bytes per id of 30 bytes
//! beside its value, where a `HashMap<String, V>` takes about 90: what
//! lets the anomaly scan hold every lot and shipment of a registry of
//! tens of millions of events in a few hundred MiB.
//!
//! Exact: an id is found by comparing its bytes, never by its hash alone,
//! so two ids never share a slot. The hasher is keyed at random per
//! process, so chosen ids cannot flood one bucket.

use hashbrown::HashTable;

/// A slot number: the `n`th id interned.
pub(crate) type Slot = u32;

pub(crate) struct Interned<V> {
    hasher: ahash::RandomState,
    table: HashTable<Slot>,
    /// Every id's bytes, one after the other.
    text: String,
    /// Where each slot's id ends in `text`.
    ends: Vec<usize>,
    values: Vec<V>,
}

impl<V> Default for Interned<V> {
    fn default() -> Self {
        Interned {
            hasher: ahash::RandomState::new(),
            table: HashTable::new(),
            text: String::new(),
            ends: Vec::new(),
            values: Vec::new(),
        }
    }
}

impl<V> std::fmt::Debug for Interned<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interned")
            .field("ids", &self.values.len())
            .field("bytes", &self.text.len())
            .finish()
    }
}

fn name_in<'a>(text: &'a str, ends: &[usize], slot: Slot) -> &'a str {
    let i = slot as usize;
    let start = match i.checked_sub(1) {
        Some(before) => ends.get(before).copied().unwrap_or(0),
        None => 0,
    };
    let end = ends.get(i).copied().unwrap_or(start);
    text.get(start..end).unwrap_or_default()
}

impl<V> Interned<V> {
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// The id of `slot` (empty for a slot never given).
    pub(crate) fn name(&self, slot: Slot) -> &str {
        name_in(&self.text, &self.ends, slot)
    }

    pub(crate) fn slot(&self, id: &str) -> Option<Slot> {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&s| name_in(&self.text, &self.ends, s) == id)
            .copied()
    }

    pub(crate) fn get(&self, id: &str) -> Option<&V> {
        self.slot(id).and_then(|s| self.values.get(s as usize))
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut V> {
        let slot = self.slot(id)?;
        self.values.get_mut(slot as usize)
    }

    pub(crate) fn value(&self, slot: Slot) -> Option<&V> {
        self.values.get(slot as usize)
    }

    pub(crate) fn value_mut(&mut self, slot: Slot) -> Option<&mut V> {
        self.values.get_mut(slot as usize)
    }

    /// The slot of `id`, interned with `make()` if new, and whether it was
    /// new; `None` when every slot number is taken.
    pub(crate) fn insert(&mut self, id: &str, make: impl FnOnce() -> V) -> Option<(Slot, bool)> {
        let hash = self.hasher.hash_one(id);
        if let Some(&slot) = self
            .table
            .find(hash, |&s| name_in(&self.text, &self.ends, s) == id)
        {
            return Some((slot, false));
        }
        let slot = Slot::try_from(self.values.len()).ok()?;
        self.text.push_str(id);
        self.ends.push(self.text.len());
        self.values.push(make());
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.table
            .insert_unique(hash, slot, |&s| hasher.hash_one(name_in(text, ends, s)));
        Some((slot, true))
    }

    /// Every id and its value, in the order they were interned.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Slot, &str, &V)> {
        self.values.iter().enumerate().map(|(i, v)| {
            let slot = i as Slot;
            (slot, self.name(slot), v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_get_their_own_slots_and_are_found_by_their_bytes() {
        let mut ids: Interned<u64> = Interned::default();
        assert_eq!(ids.insert("a", || 1), Some((0, true)));
        assert_eq!(ids.insert("ab", || 2), Some((1, true)));
        assert_eq!(ids.insert("", || 3), Some((2, true)));
        assert_eq!(ids.insert("a", || 9), Some((0, false)), "not made again");
        assert_eq!(ids.get("a"), Some(&1));
        assert_eq!(ids.get("ab"), Some(&2));
        assert_eq!(ids.get(""), Some(&3));
        assert_eq!(ids.get("b"), None);
        assert_eq!(ids.name(1), "ab");
        assert_eq!(ids.name(7), "", "a slot never given names nothing");
        if let Some(v) = ids.get_mut("ab") {
            *v = 20;
        }
        assert_eq!(ids.value(1), Some(&20));
        let all: Vec<(Slot, &str, &u64)> = ids.iter().collect();
        assert_eq!(all, vec![(0, "a", &1), (1, "ab", &20), (2, "", &3)]);
        assert_eq!(ids.len(), 3);
    }

    #[test]
    fn many_ids_survive_the_table_growing() {
        let mut ids: Interned<usize> = Interned::default();
        for i in 0..50_000 {
            let id = format!("urn:oretrace:lot:{i}");
            assert_eq!(ids.insert(&id, || i), Some((i as Slot, true)));
        }
        for i in (0..50_000).step_by(7) {
            let id = format!("urn:oretrace:lot:{i}");
            assert_eq!(ids.get(&id), Some(&i));
            assert_eq!(ids.name(i as Slot), id);
        }
        assert_eq!(ids.get("urn:oretrace:lot:50000"), None);
    }
}
