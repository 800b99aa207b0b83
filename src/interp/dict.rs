//! Insertion-ordered hash maps for `dict` and `set`, keyed by the hashable projection of a value.

use std::collections::HashMap;
use std::rc::Rc;

use super::value::Value;

/// The hashable projection of a value. Equal Python values have equal keys (`1`, `1.0` and
/// `True` are one key); host objects, functions, classes and instances are keyed by identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    None,
    Ellipsis,
    /// Ints, bools, and floats with an integral value.
    Int(i64),
    /// Other floats, by bit pattern (NaN is only equal to the same NaN bits, close enough).
    Float(u64),
    Str(Rc<str>),
    Bytes(Rc<[u8]>),
    Tuple(Vec<Key>),
    /// Sorted, so that equal sets have equal keys.
    FrozenSet(Vec<Key>),
    Range(i64, i64, i64),
    /// A built-in type or function, by name.
    Named(&'static str),
    /// Everything compared by identity, by address.
    Identity(usize),
}

impl Key {
    pub(crate) fn float(f: f64) -> Key {
        if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
            Key::Int(f as i64)
        } else if f == 0.0 {
            Key::Int(0)
        } else {
            Key::Float(f.to_bits())
        }
    }
}

/// An insertion-ordered map. Removal leaves a hole that is compacted once holes dominate, so
/// popping keys one by one stays linear.
#[derive(Debug, Clone, Default)]
pub struct Dict {
    entries: Vec<Option<(Value, Value)>>,
    index: HashMap<Key, usize>,
}

impl Dict {
    pub fn new() -> Self {
        Dict::default()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn get(&self, key: &Key) -> Option<&Value> {
        let &i = self.index.get(key)?;
        self.entries.get(i)?.as_ref().map(|(_, v)| v)
    }

    pub fn contains(&self, key: &Key) -> bool {
        self.index.contains_key(key)
    }

    /// Insert or replace; a replaced entry keeps its place and its original key object.
    pub fn insert(&mut self, key: Key, k: Value, v: Value) {
        if let Some(&i) = self.index.get(&key) {
            if let Some(Some(entry)) = self.entries.get_mut(i) {
                entry.1 = v;
                return;
            }
        }
        self.index.insert(key, self.entries.len());
        self.entries.push(Some((k, v)));
    }

    pub fn remove(&mut self, key: &Key) -> Option<(Value, Value)> {
        let i = self.index.remove(key)?;
        let entry = self.entries.get_mut(i)?.take();
        if self.entries.len() > 16 && self.index.len() * 2 < self.entries.len() {
            self.compact();
        }
        entry
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.index.clear();
    }

    fn compact(&mut self) {
        let mut by_old: Vec<(usize, Key)> = self.index.drain().map(|(k, i)| (i, k)).collect();
        by_old.sort_by_key(|(i, _)| *i);
        let mut entries = Vec::with_capacity(by_old.len());
        for (old, key) in by_old {
            if let Some(entry) = self.entries.get_mut(old).and_then(Option::take) {
                self.index.insert(key, entries.len());
                entries.push(Some(entry));
            }
        }
        self.entries = entries;
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries.iter().flatten().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> Vec<Value> {
        self.iter().map(|(k, _)| k.clone()).collect()
    }

    pub fn values(&self) -> Vec<Value> {
        self.iter().map(|(_, v)| v.clone()).collect()
    }

    /// The hash keys in insertion order (for set algebra without rehashing).
    pub(crate) fn key_entries(&self) -> Vec<(Key, Value)> {
        let mut out: Vec<(usize, Key)> = self.index.iter().map(|(k, &i)| (i, k.clone())).collect();
        out.sort_by_key(|(i, _)| *i);
        out.into_iter()
            .filter_map(|(i, k)| {
                let (v, _) = self.entries.get(i)?.as_ref()?;
                Some((k, v.clone()))
            })
            .collect()
    }

    /// Remove and return the last entry.
    pub fn pop_last(&mut self) -> Option<(Value, Value)> {
        while let Some(last) = self.entries.pop() {
            if let Some((k, v)) = last {
                let idx = self.entries.len();
                self.index.retain(|_, i| *i != idx);
                return Some((k, v));
            }
        }
        None
    }
}
