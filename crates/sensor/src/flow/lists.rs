//! Intrusive doubly linked lists over slab indices, for O(1) "move to back" on every
//! packet and O(1) access to the oldest entry of each list (timeouts, eviction).

/// No entry.
const NIL: u32 = u32::MAX;
/// Not in any list.
const NO_LIST: u8 = u8::MAX;

#[derive(Clone, Copy, Debug)]
struct Link {
    prev: u32,
    next: u32,
    list: u8,
}

impl Default for Link {
    fn default() -> Self {
        Self {
            prev: NIL,
            next: NIL,
            list: NO_LIST,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Ends {
    head: u32,
    tail: u32,
}

/// `N` lists sharing one link array indexed by slot; a slot is in at most one list.
#[derive(Debug)]
pub(crate) struct Lists<const N: usize> {
    ends: [Ends; N],
    links: Vec<Link>,
}

impl<const N: usize> Lists<N> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            ends: [Ends {
                head: NIL,
                tail: NIL,
            }; N],
            links: Vec::with_capacity(n),
        }
    }

    /// Oldest slot of list `list`.
    pub(crate) fn head(&self, list: usize) -> Option<u32> {
        let h = self.ends[list].head;
        (h != NIL).then_some(h)
    }

    /// Puts `slot` at the back of `list`, removing it from wherever it was.
    pub(crate) fn move_to_back(&mut self, slot: u32, list: usize) {
        self.remove(slot);
        let i = slot as usize;
        if self.links.len() <= i {
            self.links.resize(i + 1, Link::default());
        }
        let tail = self.ends[list].tail;
        self.links[i] = Link {
            prev: tail,
            next: NIL,
            list: list as u8,
        };
        if tail == NIL {
            self.ends[list].head = slot;
        } else {
            self.links[tail as usize].next = slot;
        }
        self.ends[list].tail = slot;
    }

    /// Takes `slot` out of its list, if it is in one.
    pub(crate) fn remove(&mut self, slot: u32) {
        let Some(link) = self.links.get(slot as usize).copied() else {
            return;
        };
        if link.list == NO_LIST {
            return;
        }
        let list = usize::from(link.list);
        if link.prev == NIL {
            self.ends[list].head = link.next;
        } else {
            self.links[link.prev as usize].next = link.next;
        }
        if link.next == NIL {
            self.ends[list].tail = link.prev;
        } else {
            self.links[link.next as usize].prev = link.prev;
        }
        self.links[slot as usize] = Link::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_to_back_keeps_order() {
        let mut l = Lists::<2>::with_capacity(4);
        l.move_to_back(0, 0);
        l.move_to_back(1, 0);
        l.move_to_back(2, 0);
        assert_eq!(l.head(0), Some(0));
        l.move_to_back(0, 0);
        assert_eq!(l.head(0), Some(1));
        l.move_to_back(1, 1);
        assert_eq!(l.head(0), Some(2));
        assert_eq!(l.head(1), Some(1));
        l.remove(2);
        l.remove(0);
        assert_eq!(l.head(0), None);
    }
}
