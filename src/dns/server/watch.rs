//! Watching the dataset files (inotify on Linux, through the `notify` crate): a change to
//! a file, or a file renamed into place (as rsync does), asks the loader to look at its
//! files once the changes have been quiet for a moment, so that a file being written is
//! not read half-way.

use notify::{RecursiveMode, Watcher};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// How long the files must stay quiet after a change before they are read, milliseconds.
pub(crate) const QUIET_MS: u64 = 250;

/// When the last change was seen (milliseconds since `start`, plus one; 0: none pending).
#[derive(Debug, Default)]
pub(crate) struct Changes(AtomicU64);

impl Changes {
    /// Whether a change is pending and has been quiet long enough; clears it then.
    pub(crate) fn due(&self, now_ms: u64) -> bool {
        let t = self.0.load(Ordering::Acquire);
        if t == 0 || now_ms + 1 < t + QUIET_MS {
            return false;
        }
        self.0
            .compare_exchange(t, 0, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }
}

/// Watches the directories holding `files`; changes to those files are noted in
/// `changes`. `None` when no watch could be set up (the periodic check and SIGHUP still
/// work).
pub(crate) fn watch(
    files: &[Box<str>],
    changes: Arc<Changes>,
    start: Instant,
) -> Option<notify::RecommendedWatcher> {
    let wanted: HashSet<PathBuf> = files.iter().map(|f| absolute(Path::new(&**f))).collect();
    let dirs: HashSet<PathBuf> = wanted
        .iter()
        .filter_map(|p| p.parent().map(Path::to_path_buf))
        .collect();
    let mut w = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
        let Ok(e) = r else {
            return;
        };
        if e.kind.is_access() {
            return;
        }
        if e.paths.iter().any(|p| wanted.contains(p)) {
            let now = start.elapsed().as_millis() as u64 + 1;
            changes.0.store(now, Ordering::Release);
        }
    })
    .ok()?;
    let mut any = false;
    for d in &dirs {
        any |= w.watch(d, RecursiveMode::NonRecursive).is_ok();
    }
    any.then_some(w)
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}
