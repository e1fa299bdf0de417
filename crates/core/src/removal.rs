//! What the cache tells its caller about every entry it removes, in the order it removes
//! them: the slot, key and value the entry held and why it left. The caller passes a sink
//! to each operation; `()` ignores everything and compiles to nothing, so an operation
//! whose caller does not listen pays nothing for it.

/// Why an entry left the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    /// Removed to make room (entry count or byte budget), or not kept because its value
    /// alone exceeded the byte budget.
    Evict = 0,
    /// Its deadline had passed (found by get, set's sweep, delete, or as the victim).
    Expire = 1,
    /// Removed by `delete` while live.
    Delete = 2,
    /// Its value was replaced by a `set` of the same key.
    Set = 3,
    /// Removed by `clear`.
    Clear = 4,
}

impl Reason {
    pub const ALL: [Reason; 5] = [Reason::Evict, Reason::Expire, Reason::Delete, Reason::Set, Reason::Clear];
}

/// One removed entry, lent to the sink before its memory is reused.
#[derive(Debug)]
pub struct Removal<'a> {
    /// The slot the entry occupied ([`crate::NO_SLOT`] for a value that was never stored).
    pub slot: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub reason: Reason,
}

/// Receives removals, synchronously, in order.
pub trait OnRemove {
    fn removed(&mut self, removal: &Removal<'_>);
    /// False when every removal would be ignored: lets `clear` skip walking the entries.
    fn listening(&self) -> bool {
        true
    }
}

impl OnRemove for () {
    #[inline(always)]
    fn removed(&mut self, _: &Removal<'_>) {}
    fn listening(&self) -> bool {
        false
    }
}

/// A sink behind a reference, including `&mut dyn OnRemove` (a caller choosing its sink at run time).
impl<T: OnRemove + ?Sized> OnRemove for &mut T {
    #[inline(always)]
    fn removed(&mut self, r: &Removal<'_>) {
        (**self).removed(r)
    }
    fn listening(&self) -> bool {
        (**self).listening()
    }
}

/// Collects owned copies (tests, and callers that hand removals on after the operation).
impl OnRemove for Vec<(u32, Vec<u8>, Vec<u8>, Reason)> {
    fn removed(&mut self, r: &Removal<'_>) {
        self.push((r.slot, r.key.to_vec(), r.value.to_vec(), r.reason));
    }
}
