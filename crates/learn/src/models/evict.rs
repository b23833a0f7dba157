//! Cap enforcement shared by the connection, novelty and scan models: when a map is
//! full, the least recently seen tenth goes, so one insertion at the cap costs one
//! sort and the next many insertions cost nothing.

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
    let n = excess.max(cap / 10).max(1).min(map.len());
    // Ties broken by key so the same state always evicts the same entries.
    let mut ages: Vec<(i64, K)> = map.iter().map(|(k, v)| (last_seen(v), k.clone())).collect();
    ages.sort_unstable();
    for (_, key) in ages.into_iter().take(n) {
        map.remove(&key);
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
}
