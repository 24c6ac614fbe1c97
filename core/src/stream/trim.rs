//! [`FreeMemory`]: gives the memory of closed connections back to the operating system.
//!
//! A burst of connections that open and close leaves their buffers free inside the allocator,
//! but glibc's malloc keeps the free memory of its per-thread arenas rather than returning it:
//! 2,000 connections left about 17 MB of resident memory behind per burst, growing with each
//! (`hubwire bench bounds`). Nothing leaked (an explicit `malloc_trim` brought it all back), so
//! the listener asks for that trim once a burst of closes has settled.

/// Closes after which a trim is worth its cost (it walks every arena, a few milliseconds).
pub const TRIM_AFTER_CLOSES: usize = 256;

/// Counts closed connections and says when to schedule a trim: once [`TRIM_AFTER_CLOSES`]
/// have closed since the last one, with one trim pending at a time (the caller runs it a little
/// later, when the burst has settled, and calls [`trimmed`](Self::trimmed)).
#[derive(Debug, Default, Clone)]
pub struct FreeMemory {
    closed: usize,
    pending: bool,
}

impl FreeMemory {
    /// A connection closed; true when a trim is to be scheduled now.
    pub fn closed(&mut self) -> bool {
        self.closed += 1;
        if self.pending || self.closed < TRIM_AFTER_CLOSES {
            return false;
        }
        self.pending = true;
        true
    }

    /// The scheduled trim ran (closes from now on count toward the next).
    pub fn trimmed(&mut self) {
        self.pending = false;
        self.closed = 0;
    }
}

/// Returns free allocator memory to the operating system, where the allocator keeps it
/// (glibc); elsewhere it does nothing.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trim_is_scheduled_per_burst_of_closes() {
        let mut free = FreeMemory::default();
        let asked: usize = (0..TRIM_AFTER_CLOSES * 3).filter(|_| free.closed()).count();
        assert_eq!(asked, 1, "one pending at a time");
        free.trimmed();
        let asked: Vec<usize> = (1..=TRIM_AFTER_CLOSES).filter(|_| free.closed()).collect();
        assert_eq!(
            asked,
            [TRIM_AFTER_CLOSES],
            "the count starts over after a trim"
        );
        return_free_memory();
    }
}
