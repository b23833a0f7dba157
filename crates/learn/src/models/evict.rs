//! Cap enforcement shared by the models: when a map is full, a batch of its least
//! recently seen entries goes at once, so one insertion at the cap costs one pass over
//! the map and the next many insertions cost nothing.

use crate::stats::Map;
use std::hash::Hash;

/// Makes room in `map` for one more entry when it holds `cap` or more: removes the
/// entries with the oldest `last_seen` (at least one, about a tenth of the cap) and
/// returns how many went.
pub fn make_room<K, V>(map: &mut Map<K, V>, cap: usize, last_seen: impl Fn(&V) -> i64) -> u64
where
    K: Clone + Eq + Hash + Ord,
{
    if map.len() < cap {
        return 0;
    }
    let excess = map.len() + 1 - cap;
    let n = excess.max(cap / 10).max(1);
    remove_oldest(map, n, last_seen)
}

/// Removes the oldest eighth (at least one entry) of `map` by `last_seen`; returns how
/// many went.
pub fn evict_eighth<K, V>(map: &mut Map<K, V>, last_seen: impl Fn(&V) -> i64) -> u64
where
    K: Clone + Eq + Hash + Ord,
{
    let n = (map.len() / 8).max(1);
    remove_oldest(map, n, last_seen)
}

/// Removes the `n` entries of `map` with the oldest `last_seen` and returns how many
/// went. Ties are broken by key, so the same state always evicts the same entries.
/// Selecting them is linear in the map's size: no sort.
pub fn remove_oldest<K, V>(map: &mut Map<K, V>, n: usize, last_seen: impl Fn(&V) -> i64) -> u64
where
    K: Clone + Eq + Hash + Ord,
{
    let n = n.min(map.len());
    if n == 0 {
        return 0;
    }
    let mut ages: Vec<(i64, K)> = map.iter().map(|(k, v)| (last_seen(v), k.clone())).collect();
    if n < ages.len() {
        ages.select_nth_unstable(n - 1);
    }
    for (_, key) in &ages[..n] {
        map.remove(key);
    }
    n as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_seen_tenth() {
        let mut map: Map<u32, i64> = (0..20).map(|k| (k, 100 - i64::from(k))).collect();
        assert_eq!(make_room(&mut map, 30, |v| *v), 0);
        assert_eq!(make_room(&mut map, 20, |v| *v), 2);
        assert_eq!(map.len(), 18);
        assert!(!map.contains_key(&19) && !map.contains_key(&18));
        assert!(map.contains_key(&17));
    }

    #[test]
    fn ties_go_by_key_and_an_eighth_goes() {
        // Sixteen entries, all seen at once: the eighth evicted are the two smallest keys.
        let mut map: Map<u32, i64> = (0..16).map(|k| (k, 7)).collect();
        assert_eq!(evict_eighth(&mut map, |v| *v), 2);
        assert!(!map.contains_key(&0) && !map.contains_key(&1));
        assert_eq!(map.len(), 14);
        let mut one: Map<u32, i64> = [(5, 1)].into_iter().collect();
        assert_eq!(evict_eighth(&mut one, |v| *v), 1);
        assert!(one.is_empty());
    }
}
