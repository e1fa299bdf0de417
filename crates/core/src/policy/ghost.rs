//! S3-FIFO's ghost queue: a FIFO *set* of 32-bit key hashes (no values, no slots) of the
//! entries recently evicted from the small queue. Adding a hash already present leaves
//! it where it is; a hit removes it from the middle. Ghost entries are not cache entries:
//! they count toward no size or counter. A hash collision only sends an unseen key
//! straight to the main queue, which is harmless (and identical in both engines).
//! [`Ghost::access`] makes it an LRU set instead (W-TinyLFU's miniature LRU).
//!
//! Layout: its own small slab with u32 links and a hashbrown table of slab indices.

use hashbrown::HashTable;

const NIL: u32 = u32::MAX;

pub(crate) struct Ghost {
    capacity: u32,
    table: HashTable<u32>,
    fps: Vec<u32>,
    /// Towards the newer end.
    newer: Vec<u32>,
    /// Towards the older end.
    older: Vec<u32>,
    free: Vec<u32>,
    newest: u32,
    oldest: u32,
}

#[inline]
fn spread(fp: u32) -> u64 {
    (fp as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

impl Ghost {
    pub fn new(capacity: u32) -> Ghost {
        Ghost {
            capacity,
            table: HashTable::new(),
            fps: Vec::new(),
            newer: Vec::new(),
            older: Vec::new(),
            free: Vec::new(),
            newest: NIL,
            oldest: NIL,
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Removes `fp` if present; whether it was.
    pub fn take(&mut self, fp: u32) -> bool {
        let fps = &self.fps;
        match self
            .table
            .find_entry(spread(fp), |&i| fps[i as usize] == fp)
        {
            Ok(found) => {
                let (i, _) = found.remove();
                self.unlink(i);
                true
            }
            Err(_) => false,
        }
    }

    /// An LRU access: moves `fp` to the newest end if present (true), else adds it there
    /// (dropping the oldest beyond capacity).
    pub fn access(&mut self, fp: u32) -> bool {
        let fps = &self.fps;
        if let Some(&i) = self.table.find(spread(fp), |&i| fps[i as usize] == fp) {
            if i != self.newest {
                self.detach(i);
                self.attach_newest(i);
            }
            return true;
        }
        self.insert(fp);
        false
    }

    /// Adds `fp` at the newest end (no-op if present), dropping the oldest beyond capacity.
    pub fn push(&mut self, fp: u32) {
        let fps = &self.fps;
        if self
            .table
            .find(spread(fp), |&i| fps[i as usize] == fp)
            .is_none()
        {
            self.insert(fp);
        }
    }

    /// Adds `fp`, known to be absent, at the newest end; drops the oldest beyond capacity.
    fn insert(&mut self, fp: u32) {
        if self.capacity == 0 {
            return;
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.fps[i as usize] = fp;
                i
            }
            None => {
                self.fps.push(fp);
                self.newer.push(NIL);
                self.older.push(NIL);
                (self.fps.len() - 1) as u32
            }
        };
        self.attach_newest(i);
        let fps = &self.fps;
        self.table
            .insert_unique(spread(fp), i, |&j| spread(fps[j as usize]));
        if self.table.len() > self.capacity as usize {
            let o = self.oldest;
            let ofp = self.fps[o as usize];
            let fps = &self.fps;
            if let Ok(found) = self
                .table
                .find_entry(spread(ofp), |&j| fps[j as usize] == ofp)
            {
                found.remove();
            }
            self.unlink(o);
        }
    }

    fn attach_newest(&mut self, i: u32) {
        self.newer[i as usize] = NIL;
        self.older[i as usize] = self.newest;
        if self.newest != NIL {
            self.newer[self.newest as usize] = i;
        } else {
            self.oldest = i;
        }
        self.newest = i;
    }

    /// Takes slab index `i` out of the order and frees it.
    fn unlink(&mut self, i: u32) {
        self.detach(i);
        self.free.push(i);
    }

    fn detach(&mut self, i: u32) {
        let (n, o) = (self.newer[i as usize], self.older[i as usize]);
        if n == NIL {
            self.newest = o;
        } else {
            self.older[n as usize] = o;
        }
        if o == NIL {
            self.oldest = n;
        } else {
            self.newer[o as usize] = n;
        }
    }

    pub fn clear(&mut self) {
        *self = Ghost::new(self.capacity);
    }

    pub fn heap_bytes(&self) -> usize {
        self.table.capacity() * 5 + self.fps.capacity() * 12 + self.free.capacity() * 4
    }
}
