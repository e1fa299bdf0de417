//! Shard locks: robust, process-shared pthread mutexes living in the segment. When a holder
//! dies (SIGKILL included) the kernel hands the lock to the next waiter with EOWNERDEAD;
//! that waiter marks it consistent and rebuilds the shard. Every wait is bounded.

use super::MachineError;

/// What the lock said when it was taken.
pub enum Taken {
    Clean,
    /// The previous owner died holding it: the shard must be rebuilt.
    OwnerDied,
}

#[cfg(target_os = "linux")]
mod imp {
    use super::{MachineError, Taken};
    use libc::{pthread_mutex_t, timespec};

    /// # Safety
    /// `m` points at zeroed, writable, 8-aligned shared memory no process is using yet.
    pub unsafe fn init(m: *mut pthread_mutex_t) -> Result<(), MachineError> {
        let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
        let mut rc = libc::pthread_mutexattr_init(&mut attr);
        if rc == 0 {
            rc = libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
        }
        if rc == 0 {
            rc = libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
        }
        if rc == 0 {
            rc = libc::pthread_mutex_init(m, &attr);
        }
        libc::pthread_mutexattr_destroy(&mut attr);
        if rc != 0 {
            return Err(MachineError::Io(format!("pthread_mutex_init: {}", std::io::Error::from_raw_os_error(rc))));
        }
        Ok(())
    }

    /// # Safety
    /// `m` points at a mutex initialised by `init` in a mapped segment.
    pub unsafe fn lock(m: *mut pthread_mutex_t, timeout_ms: u64, shard: u32) -> Result<Taken, MachineError> {
        let mut rc = libc::pthread_mutex_trylock(m);
        if rc == libc::EBUSY {
            let mut now: timespec = std::mem::zeroed();
            libc::clock_gettime(libc::CLOCK_REALTIME, &mut now);
            let total_ns = now.tv_nsec as u64 + (timeout_ms % 1000) * 1_000_000;
            let deadline = timespec {
                tv_sec: now.tv_sec + (timeout_ms / 1000) as libc::time_t + (total_ns / 1_000_000_000) as libc::time_t,
                tv_nsec: (total_ns % 1_000_000_000) as libc::c_long,
            };
            rc = libc::pthread_mutex_timedlock(m, &deadline);
        }
        match rc {
            0 => Ok(Taken::Clean),
            libc::EOWNERDEAD => {
                libc::pthread_mutex_consistent(m);
                Ok(Taken::OwnerDied)
            }
            libc::ETIMEDOUT => Err(MachineError::LockTimeout { shard, timeout_ms }),
            libc::ENOTRECOVERABLE => Err(MachineError::Io(format!("shard {shard}: lock is not recoverable"))),
            e => Err(MachineError::Io(format!("shard {shard}: lock failed: {}", std::io::Error::from_raw_os_error(e)))),
        }
    }

    /// # Safety
    /// The caller holds `m`.
    pub unsafe fn unlock(m: *mut pthread_mutex_t) {
        libc::pthread_mutex_unlock(m);
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::{MachineError, Taken};
    pub unsafe fn init(_m: *mut u8) -> Result<(), MachineError> {
        Err(MachineError::Unsupported)
    }
    pub unsafe fn lock(_m: *mut u8, _timeout_ms: u64, _shard: u32) -> Result<Taken, MachineError> {
        Err(MachineError::Unsupported)
    }
    pub unsafe fn unlock(_m: *mut u8) {}
}

pub use imp::{init, lock, unlock};

#[cfg(target_os = "linux")]
pub type RawMutex = libc::pthread_mutex_t;
#[cfg(not(target_os = "linux"))]
pub type RawMutex = u8;
