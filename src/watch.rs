//! Watching files for changes, shared by the DNS server (`dns`: its dataset files) and the
//! policy server's in-process lists (`smtp`: `[dns] datasets`). Two ways, used together:
//!
//! - a [`Stamp`] of every file (size and modification time), compared with the one taken
//!   when the files were loaded, by a periodic look;
//! - a watch (inotify on Linux, through the `notify` crate) on the directories holding the
//!   files: a change to a file, or a file renamed into place (as rsync does), is noted in
//!   [`Changes`], which becomes [`due`](Changes::due) once the changes have been quiet
//!   for [`QUIET_MS`], so that a file being written is not read half-way.

use notify::{RecursiveMode, Watcher};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

/// How long the files must stay quiet after a change before they are read, milliseconds.
pub(crate) const QUIET_MS: u64 = 250;

/// Each file's size and modification time (`None`: it could not be read), in order.
pub(crate) type Stamp = Vec<(Box<str>, Option<(u64, SystemTime)>)>;

/// The stamp of `files` now.
pub(crate) fn stamp<'a>(files: impl IntoIterator<Item = &'a Box<str>>) -> Stamp {
    files
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(&**f)
                .ok()
                .and_then(|m| Some((m.len(), m.modified().ok()?)));
            (f.clone(), m)
        })
        .collect()
}

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
/// `changes`. `None` when no watch could be set up (the periodic look and SIGHUP still
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_change_is_due_once_quiet_and_only_once() {
        let c = Changes::default();
        assert!(!c.due(1_000));
        c.0.store(1_001, Ordering::Release);
        assert!(!c.due(1_100));
        assert!(c.due(1_000 + QUIET_MS));
        assert!(!c.due(5_000));
    }

    #[test]
    fn a_stamp_follows_size_and_a_missing_file() {
        let dir = std::env::temp_dir().join(format!("rblkit-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f: Box<str> = dir.join("a.txt").display().to_string().into();
        let files = [f.clone()];
        assert_eq!(stamp(&files), [(f.clone(), None)]);
        std::fs::write(&*f, "1.2.3.4\n").unwrap();
        let one = stamp(&files);
        assert_eq!(one[0].1.map(|m| m.0), Some(8));
        std::fs::write(&*f, "1.2.3.4\n5.6.7.8\n").unwrap();
        assert_ne!(stamp(&files), one);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_watch_notes_a_file_renamed_into_place() {
        let dir = std::env::temp_dir().join(format!("rblkit-watch-mv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("bl.txt");
        std::fs::write(&f, "old\n").unwrap();
        let changes = Arc::new(Changes::default());
        let start = Instant::now();
        let files: [Box<str>; 1] = [f.display().to_string().into()];
        let Some(_w) = watch(&files, changes.clone(), start) else {
            // no inotify here: the periodic look still works
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        };
        // another file in the directory is no change
        std::fs::write(dir.join("other.txt"), "x\n").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        assert!(!changes.due(u64::MAX / 2));
        std::fs::write(dir.join("bl.txt.tmp"), "new\n").unwrap();
        std::fs::rename(dir.join("bl.txt.tmp"), &f).unwrap();
        let t = Instant::now();
        while !changes.due(start.elapsed().as_millis() as u64) {
            assert!(t.elapsed() < Duration::from_secs(10), "no change seen");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
