//! The segment file: created complete under a temporary name and published with link(2),
//! so no process ever attaches to a half-initialised segment; attached only when its owner
//! is this process's effective uid and its header matches the parameters asked for.

use super::layout::*;
use super::lock;
use super::shard::Shard;
use super::{MachineError, MachineOptions};
use std::path::{Path, PathBuf};

/// The file a cache name maps to: `<dir>/astra-cache-<name>`.
pub fn segment_path(dir: &Path, name: &str) -> Result<PathBuf, MachineError> {
    let ok = !name.is_empty() && name.len() <= 200 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-') && !name.starts_with('.');
    if !ok {
        return Err(MachineError::BadName(name.to_string()));
    }
    Ok(dir.join(format!("astra-cache-{name}")))
}

/// Removes the segment file (processes still attached keep their mapping). False if absent.
pub fn unlink(dir: &Path, name: &str) -> Result<bool, MachineError> {
    let path = segment_path(dir, name)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(MachineError::Io(format!("cannot remove '{}': {e}", path.display()))),
    }
}

/// A shared, read-write mapping of a whole file; unmapped on drop.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }
    pub fn len(&self) -> usize {
        self.len
    }
}

#[cfg(target_os = "linux")]
impl Drop for Mapping {
    fn drop(&mut self) {
        unsafe { libc::munmap(self.ptr as *mut libc::c_void, self.len) };
    }
}

#[cfg(not(target_os = "linux"))]
pub fn open_or_create(_o: &MachineOptions, _g: &Geometry) -> Result<(Mapping, bool), MachineError> {
    Err(MachineError::Unsupported)
}

#[cfg(target_os = "linux")]
pub fn open_or_create(o: &MachineOptions, g: &Geometry) -> Result<(Mapping, bool), MachineError> {
    imp::open_or_create(o, g)
}

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use std::ffi::CString;
    use std::io;
    use std::os::unix::ffi::OsStrExt;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn io_err(what: &str, path: &Path) -> MachineError {
        MachineError::Io(format!("{what} '{}': {}", path.display(), io::Error::last_os_error()))
    }

    fn cpath(p: &Path) -> CString {
        CString::new(p.as_os_str().as_bytes()).expect("segment paths have no NUL")
    }

    struct Fd(libc::c_int);
    impl Drop for Fd {
        fn drop(&mut self) {
            unsafe { libc::close(self.0) };
        }
    }

    fn map(fd: &Fd, len: usize, path: &Path) -> Result<Mapping, MachineError> {
        let p = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd.0, 0) };
        if p == libc::MAP_FAILED {
            return Err(io_err("cannot map", path));
        }
        Ok(Mapping { ptr: p as *mut u8, len })
    }

    pub fn open_or_create(o: &MachineOptions, g: &Geometry) -> Result<(Mapping, bool), MachineError> {
        let path = segment_path(&o.dir, &o.name)?;
        let c = cpath(&path);
        for _ in 0..100 {
            let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC | libc::O_NOFOLLOW) };
            if fd >= 0 {
                return Ok((attach(Fd(fd), &path, g)?, false));
            }
            let errno = io::Error::last_os_error().raw_os_error();
            if errno != Some(libc::ENOENT) {
                return Err(io_err("cannot open", &path));
            }
            if let Some(m) = create(o, g, &path)? {
                return Ok((m, true));
            }
            // Another process published it first: attach to theirs.
        }
        Err(MachineError::Io(format!("segment '{}' keeps appearing and disappearing", path.display())))
    }

    fn attach(fd: Fd, path: &Path, g: &Geometry) -> Result<Mapping, MachineError> {
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd.0, &mut st) } != 0 {
            return Err(io_err("cannot stat", path));
        }
        let euid = unsafe { libc::geteuid() };
        if st.st_uid != euid {
            return Err(MachineError::NotOwner { path: path.display().to_string(), owner: st.st_uid, euid });
        }
        let not = |why: String| MachineError::NotASegment { path: path.display().to_string(), why };
        let len = st.st_size as usize;
        if len < HEADER_BYTES {
            return Err(not(format!("{len} bytes, shorter than a header")));
        }
        let m = map(&fd, len, path)?;
        let h = unsafe { &*(m.ptr() as *const Header) };
        if h.magic != MAGIC {
            return Err(not("no segment header".into()));
        }
        if h.version != LAYOUT_VERSION {
            return Err(not(format!("layout version {}, this build reads {LAYOUT_VERSION}", h.version)));
        }
        let ready = unsafe { AtomicU32::from_ptr(&h.ready as *const u32 as *mut u32) };
        if ready.load(Ordering::Acquire) != 1 {
            return Err(not("never finished initialising".into()));
        }
        let mismatch = |field: &'static str, created: u64, asked: u64| MachineError::Mismatch { path: path.display().to_string(), field, created, asked };
        let checks: [(&'static str, u64, u64); 4] = [
            ("capacity", h.capacity.into(), g.capacity.into()),
            ("maxBytes", h.max_bytes, g.max_bytes),
            ("shards", h.shards.into(), g.shards.into()),
            ("policy", h.policy.into(), POLICY_LRU.into()),
        ];
        for (field, created, asked) in checks {
            if created != asked {
                return Err(mismatch(field, created, asked));
            }
        }
        if h.total_bytes != g.total_bytes as u64 || len != g.total_bytes || h.region_bytes != g.region_bytes || h.index_len != g.index_len {
            return Err(not(format!("size {len} bytes, this layout needs {}", g.total_bytes)));
        }
        Ok(m)
    }

    /// Builds a complete segment under a temporary name and links it into place; None when
    /// another process linked one first.
    fn create(o: &MachineOptions, g: &Geometry, path: &Path) -> Result<Option<Mapping>, MachineError> {
        let mut rnd = [0u8; 8];
        unsafe { libc::getrandom(rnd.as_mut_ptr() as *mut libc::c_void, 8, 0) };
        let seed = u64::from_le_bytes(rnd);
        let tmp = path.with_file_name(format!("{}.tmp-{}-{:x}", path.file_name().unwrap().to_string_lossy(), std::process::id(), seed & 0xffff_ffff));
        let ct = cpath(&tmp);
        let fd = unsafe { libc::open(ct.as_ptr(), libc::O_RDWR | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC | libc::O_NOFOLLOW, o.mode as libc::c_uint) };
        if fd < 0 {
            return Err(io_err("cannot create", &tmp));
        }
        let fd = Fd(fd);
        let cleanup = |e: MachineError| {
            unsafe { libc::unlink(ct.as_ptr()) };
            e
        };
        // The umask must not widen or narrow what was asked.
        if unsafe { libc::fchmod(fd.0, o.mode as libc::mode_t) } != 0 {
            return Err(cleanup(io_err("cannot chmod", &tmp)));
        }
        // Reserve the memory now: a full /dev/shm fails here, not as SIGBUS on a later write.
        let rc = unsafe { libc::posix_fallocate(fd.0, 0, g.total_bytes as libc::off_t) };
        if rc != 0 {
            return Err(cleanup(MachineError::Io(format!("cannot reserve {} bytes for '{}': {}", g.total_bytes, tmp.display(), io::Error::from_raw_os_error(rc)))));
        }
        let m = map(&fd, g.total_bytes, &tmp).map_err(cleanup)?;
        unsafe { init(&m, g, seed) }.map_err(cleanup)?;
        let published = unsafe { libc::link(ct.as_ptr(), cpath(path).as_ptr()) };
        let link_errno = io::Error::last_os_error();
        unsafe { libc::unlink(ct.as_ptr()) };
        if published == 0 {
            return Ok(Some(m));
        }
        if link_errno.raw_os_error() == Some(libc::EEXIST) {
            return Ok(None);
        }
        Err(MachineError::Io(format!("cannot publish '{}': {link_errno}", path.display())))
    }

    unsafe fn init(m: &Mapping, g: &Geometry, seed: u64) -> Result<(), MachineError> {
        let base = m.ptr();
        for i in 0..g.shards as usize {
            let sb = base.add(HEADER_BYTES + i * g.shard_stride);
            lock::init(sb as *mut lock::RawMutex)?;
            Shard::at(sb, g, seed).init();
        }
        let h = &mut *(base as *mut Header);
        h.magic = MAGIC;
        h.version = LAYOUT_VERSION;
        h.capacity = g.capacity;
        h.shards = g.shards;
        h.policy = POLICY_LRU;
        h.slots_per_shard = g.slots_per_shard;
        h.max_bytes = g.max_bytes;
        h.region_bytes = g.region_bytes;
        h.index_len = g.index_len;
        h.shard_stride = g.shard_stride as u64;
        h.total_bytes = g.total_bytes as u64;
        h.seed = seed;
        AtomicU32::from_ptr(&mut h.ready).store(1, Ordering::Release);
        Ok(())
    }
}
