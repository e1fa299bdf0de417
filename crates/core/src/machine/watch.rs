//! Watchers: attachments that keep the segment's entries in step with an outside source of
//! truth (a TieredCache subscribed to its invalidation channel drops the keys others change).
//!
//! A TieredCache clears its L1 whenever its subscription starts or comes back, because it
//! may have missed messages. With one L1 for the machine that would empty the cache of every
//! process each time one process starts. So a watcher holds a lease in the header page while
//! it is subscribed, and a process (re)subscribing asks first: is another watcher of the same
//! topic live, and was it already watching when this one went deaf? Then every message this
//! one missed was applied to the segment by that one, and nothing needs to be dropped.
//!
//! A lease is live while its process exists (`kill(pid, 0)`) and renews it within `lease_ms`:
//! a killed watcher stops counting at once, a stalled one after `lease_ms`. The slots are
//! header bytes older builds leave zero and never read, so the layout version is unchanged.

use super::layout::{key_hash, Header, LANES_OFF};
use super::WatchOp;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::mem::size_of;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the slots start in the header page, and how many there are (watchers beyond that
/// are not seen by the others: their processes then clear on (re)subscription, as alone).
pub const WATCH_OFF: usize = 2048;
pub const WATCH_SLOTS: usize = 32;

/// One lease. `token` is `(pid << 32) | random`, 0 when free; the other words belong to it.
#[repr(C)]
#[derive(Default)]
pub struct WatchSlot {
    pub token: AtomicU64,
    pub topic: AtomicU64,
    /// CLOCK_MONOTONIC ms when the holder started watching (it was in step from then on).
    pub since_ms: AtomicU64,
    /// CLOCK_MONOTONIC ms of the holder's last renewal.
    pub beat_ms: AtomicU64,
}

const _: () = assert!(size_of::<Header>() <= WATCH_OFF && WATCH_OFF + WATCH_SLOTS * size_of::<WatchSlot>() <= LANES_OFF);

/// This attachment's lease, and since when it has been deaf (None: it never watched).
#[derive(Default, Debug)]
pub struct WatchState {
    lease: Option<(usize, u64)>,
    deaf_since: Option<u64>,
}

pub fn topic_hash(seed: u64, topic: &[u8]) -> u64 {
    key_hash(seed ^ 0x7761_7463_6865_7273, topic)
}

fn pid_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    #[cfg(target_os = "linux")]
    unsafe {
        libc::kill(pid as libc::pid_t, 0) == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

fn live(slot: &WatchSlot, token: u64, now: u64, lease_ms: u64) -> bool {
    token != 0 && now.saturating_sub(slot.beat_ms.load(Ordering::Acquire)) <= lease_ms && pid_alive((token >> 32) as u32)
}

fn new_token() -> u64 {
    let random = RandomState::new().hash_one(std::time::SystemTime::now()) as u32 | 1;
    (u64::from(std::process::id()) << 32) | u64::from(random)
}

/// The slots of a segment (header page, WATCH_OFF), or of a cache shared by the threads of
/// one process (crates/node/src/named.rs keeps them on the heap).
pub struct Watchers<'a> {
    pub slots: &'a [WatchSlot],
}

impl Watchers<'_> {
    /// What `op` does for the attachment `state`: `Start` answers how many others vouch
    /// (see [`Self::start`]); `Beat` and `Stop` answer 0.
    pub fn apply(&self, state: &mut WatchState, op: WatchOp, topic: u64, now: u64, lease_ms: u64) -> u32 {
        match op {
            WatchOp::Start => self.start(state, topic, now, lease_ms),
            WatchOp::Beat => {
                self.beat(state, now, lease_ms);
                0
            }
            WatchOp::Stop => {
                self.stop(state, now);
                0
            }
        }
    }

    /// Starts watching `topic`: returns how many other live watchers of it vouch for the
    /// segment (watching since before this attachment went deaf, or at all if it never
    /// watched), then takes a lease (or keeps the one it holds).
    pub fn start(&self, state: &mut WatchState, topic: u64, now: u64, lease_ms: u64) -> u32 {
        let mine = state.lease.map(|(_, t)| t);
        let mut vouching = 0;
        for slot in self.slots {
            let token = slot.token.load(Ordering::Acquire);
            if Some(token) == mine || !live(slot, token, now, lease_ms) || slot.topic.load(Ordering::Acquire) != topic {
                continue;
            }
            if state.deaf_since.is_none_or(|deaf| slot.since_ms.load(Ordering::Acquire) <= deaf) {
                vouching += 1;
            }
        }
        if !self.renew(state, now) {
            state.lease = self.claim(topic, now, now, lease_ms);
        }
        state.deaf_since = None;
        vouching
    }

    /// Renews the lease held (false if none, or it lapsed and another claimer took its slot).
    pub fn renew(&self, state: &mut WatchState, now: u64) -> bool {
        let Some((i, token)) = state.lease else { return false };
        let slot = &self.slots[i];
        if slot.token.load(Ordering::Acquire) == token {
            slot.beat_ms.store(now, Ordering::Release);
            return true;
        }
        false
    }

    /// Keeps a lease alive: renews it, or claims it again if it lapsed (same topic and start:
    /// this attachment did not stop listening, it only renewed late).
    pub fn beat(&self, state: &mut WatchState, now: u64, lease_ms: u64) {
        let Some((i, _)) = state.lease else { return };
        if self.renew(state, now) {
            return;
        }
        let slot = &self.slots[i];
        let (topic, since) = (slot.topic.load(Ordering::Acquire), slot.since_ms.load(Ordering::Acquire));
        state.lease = self.claim(topic, since.min(now), now, lease_ms);
    }

    /// Stops watching: frees the lease; this attachment is deaf from `now`.
    pub fn stop(&self, state: &mut WatchState, now: u64) {
        if let Some((i, token)) = state.lease.take() {
            let _ = self.slots[i].token.compare_exchange(token, 0, Ordering::AcqRel, Ordering::Acquire);
            state.deaf_since = Some(now);
        }
    }

    fn claim(&self, topic: u64, since: u64, now: u64, lease_ms: u64) -> Option<(usize, u64)> {
        let token = new_token();
        for (i, slot) in self.slots.iter().enumerate() {
            let held = slot.token.load(Ordering::Acquire);
            if held != 0 && live(slot, held, now, lease_ms) {
                continue;
            }
            // Two claimers of one free slot: one wins the exchange, the other tries the next.
            if slot.token.compare_exchange(held, token, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                slot.topic.store(topic, Ordering::Release);
                slot.since_ms.store(since, Ordering::Release);
                slot.beat_ms.store(now, Ordering::Release);
                return Some((i, token));
            }
        }
        None
    }
}
