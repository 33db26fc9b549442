//! In-process DNS lists: the policy server looks a client address up in [`List`]s held in
//! memory instead of asking a DNS server. The lists are datasets loaded from files
//! (`ZONE:TYPE:FILE[,FILE…]`, as `rblkit serve` takes them) or lists handed in by the
//! program ([`LocalLists::set_list`]). A reload ([`LocalLists::reload`], when the files'
//! size or modification time changed, or when asked with [`LocalLists::reload_flag`], say
//! on SIGHUP) swaps in the new lists atomically: a lookup sees the old lists or the new
//! ones, never a mixture. The files are watched as `rblkit serve` watches its datasets
//! (the crate's shared watcher: inotify on their directories, and their size and
//! modification time).

use super::config::DnsList;
use super::decide::DnsScore;
use super::SmtpError;
use crate::codes::ReturnCode;
use crate::list::List;
use crate::subject::{Domain, Subject};
use crate::watch::{Changes, Stamp};
use crate::zone::{Dataset, DatasetKind, DatasetSpec, LoadOptions, Zone};
use arc_swap::ArcSwap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What one zone is looked up in.
#[derive(Debug)]
enum Source {
    /// Datasets from files; `direct` when every dataset holds addresses, so that an
    /// address is looked up in the lists without building a query name.
    Zone { zone: Zone, direct: bool },
    /// A list handed in by the program.
    List(Arc<List>),
}

#[derive(Debug, Default)]
struct Snapshot {
    zones: Vec<(Domain, Source)>,
}

/// The stamp of the files of `specs`.
fn stamp(specs: &[DatasetSpec]) -> Stamp {
    crate::watch::stamp(specs.iter().flat_map(|s| s.files().iter()))
}

#[derive(Debug, Default)]
struct State {
    /// The lists handed in.
    lists: Vec<(Domain, Arc<List>)>,
    /// The stamp of the files last read.
    loaded: Stamp,
    /// A changed stamp seen at the last look: the files are read once it stays the same
    /// for one more look (or the watch says the changes have been quiet), so that a file
    /// being written is not read half-way.
    pending: Option<Stamp>,
}

/// The watch on the files' directories, while the lists live.
struct Watch {
    changes: Arc<Changes>,
    start: Instant,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("watching", &self._watcher.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Snapshot>,
    specs: Vec<DatasetSpec>,
    options: LoadOptions,
    /// Held while a new snapshot is made, so that two reloads do not interleave.
    state: Mutex<State>,
    reload: Arc<AtomicBool>,
    /// `None` without dataset files.
    watch: Option<Watch>,
}

/// DNS lists looked up in process: zones of datasets loaded from files, and lists handed
/// in. Cloning gives another handle on the same lists.
///
/// # Examples
///
/// ```
/// use rblkit::codes::ReturnCode;
/// use rblkit::smtp::{DnsList, LocalLists};
/// use rblkit::{List, Listing};
/// let mut b = List::builder();
/// b.insert(&"192.0.2.1".parse()?, Listing::new(ReturnCode::new_assert(127, 0, 0, 4)));
/// let lists = LocalLists::new();
/// lists.set_list("bl.example".parse()?, b.build());
/// let sites: Vec<DnsList> = vec!["bl.example=127.0.0.[2..4]*3".parse()?, "other.example".parse()?];
/// let s = lists.score(&sites, "192.0.2.1".parse().unwrap());
/// assert_eq!((s.score, s.listed_on.len()), (3, 1));
/// assert_eq!(lists.score(&sites, "192.0.2.2".parse().unwrap()).score, 0);
/// assert!(lists.has_zone("BL.example") && !lists.has_zone("other.example"));
/// # Ok::<(), rblkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LocalLists {
    shared: Arc<Shared>,
}

impl Default for LocalLists {
    fn default() -> Self {
        LocalLists::new()
    }
}

/// Whether a dataset kind holds addresses (looked up by address, not by name).
fn address_kind(k: DatasetKind) -> Option<bool> {
    match k {
        DatasetKind::Ip4Set | DatasetKind::Ip4TSet | DatasetKind::Ip4Trie => Some(true),
        DatasetKind::Ip6Trie | DatasetKind::Ip6TSet => Some(false),
        _ => None,
    }
}

impl LocalLists {
    /// No lists.
    pub fn new() -> LocalLists {
        LocalLists::with_specs(Vec::new(), LoadOptions::default())
    }

    fn with_specs(specs: Vec<DatasetSpec>, options: LoadOptions) -> LocalLists {
        let watch = (!specs.is_empty()).then(|| {
            let files: Vec<Box<str>> = specs
                .iter()
                .flat_map(|s| s.files().iter().cloned())
                .collect();
            let changes = Arc::new(Changes::default());
            let start = Instant::now();
            let watcher = crate::watch::watch(&files, changes.clone(), start);
            Watch {
                changes,
                start,
                _watcher: watcher,
            }
        });
        LocalLists {
            shared: Arc::new(Shared {
                current: ArcSwap::from_pointee(Snapshot::default()),
                specs,
                options,
                state: Mutex::default(),
                reload: Arc::default(),
                watch,
            }),
        }
    }

    /// Loads the datasets of `specs`: one zone per zone name, as `rblkit serve` builds
    /// them.
    ///
    /// # Errors
    ///
    /// [`SmtpError::Config`] naming the spec's file and what is wrong with it (a file that
    /// cannot be read; in strict mode, the first bad line).
    ///
    /// # Examples
    ///
    /// ```
    /// use rblkit::smtp::LocalLists;
    /// let dir = std::env::temp_dir().join(format!("rblkit-doc-lists-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("bl.txt");
    /// std::fs::write(&file, "192.0.2.0/24 :127.0.0.2:listed\n").unwrap();
    /// let spec = format!("bl.example:ip4set:{}", file.display()).parse()?;
    /// let lists = LocalLists::load(vec![spec], Default::default())?;
    /// assert_eq!(lists.codes("bl.example", "192.0.2.9".parse().unwrap()).len(), 1);
    /// std::fs::write(&file, "198.51.100.1 :127.0.0.2:listed\n").unwrap();
    /// lists.reload_flag().store(true, std::sync::atomic::Ordering::Release); // as SIGHUP does
    /// assert!(lists.reload_if_asked()?);
    /// assert!(lists.codes("bl.example", "192.0.2.9".parse().unwrap()).is_empty());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), rblkit::Error>(())
    /// ```
    pub fn load(specs: Vec<DatasetSpec>, options: LoadOptions) -> Result<LocalLists, SmtpError> {
        let l = LocalLists::with_specs(specs, options);
        l.refresh(true)?;
        Ok(l)
    }

    /// The dataset specs the lists are loaded from.
    pub fn specs(&self) -> &[DatasetSpec] {
        &self.shared.specs
    }

    /// Puts a list under `zone` (replacing a list handed in before under it); a zone of
    /// datasets with that name is then no longer looked up. Takes effect for the next
    /// lookup.
    pub fn set_list(&self, zone: Domain, list: List) {
        let mut st = self.lock();
        let list = Arc::new(list);
        match st.lists.iter_mut().find(|(z, _)| *z == zone) {
            Some(e) => e.1 = list,
            None => st.lists.push((zone, list)),
        }
        let old = self.shared.current.load_full();
        let mut zones: Vec<(Domain, Source)> = Vec::with_capacity(old.zones.len() + 1);
        for (z, l) in &st.lists {
            zones.push((z.clone(), Source::List(l.clone())));
        }
        for (z, s) in &old.zones {
            if let Source::Zone { zone, direct } = s {
                if !zones.iter().any(|(n, _)| n == z) {
                    zones.push((
                        z.clone(),
                        Source::Zone {
                            zone: zone.clone(),
                            direct: *direct,
                        },
                    ));
                }
            }
        }
        self.shared.current.store(Arc::new(Snapshot { zones }));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A flag that, when set (by a SIGHUP handler, say), makes the next
    /// [`LocalLists::reload_if_asked`] read the files whether or not they changed.
    pub fn reload_flag(&self) -> Arc<AtomicBool> {
        self.shared.reload.clone()
    }

    /// Reads the files again when the reload flag is set (clearing it), else when their
    /// size or modification time changed and stayed so since the last call (call it a few
    /// times a second); `Ok(true)` when new lists were swapped in.
    ///
    /// # Errors
    ///
    /// As [`LocalLists::load`]; the lists loaded before stay in use, and the files are
    /// read again only once they change again (or when asked).
    pub fn reload_if_asked(&self) -> Result<bool, SmtpError> {
        let asked = self.shared.reload.swap(false, Ordering::AcqRel);
        self.refresh(asked)
    }

    /// Reads the files again now, changed or not.
    ///
    /// # Errors
    ///
    /// As [`LocalLists::reload_if_asked`].
    pub fn reload(&self) -> Result<bool, SmtpError> {
        self.refresh(true)
    }

    fn refresh(&self, force: bool) -> Result<bool, SmtpError> {
        let specs = &self.shared.specs;
        if specs.is_empty() {
            return Ok(false);
        }
        let mut st = self.lock();
        // the watch saw changes, quiet since: no need to wait for another look
        let quiet = self.shared.watch.as_ref().is_some_and(|w| {
            w.changes
                .due(u64::try_from(w.start.elapsed().as_millis()).unwrap_or(u64::MAX))
        });
        let now = stamp(specs);
        if !force {
            if now == st.loaded {
                st.pending = None;
                return Ok(false);
            }
            if !quiet && st.pending.as_ref() != Some(&now) {
                st.pending = Some(now);
                return Ok(false);
            }
        }
        st.pending = None;
        st.loaded = now;
        let loaded = Zone::load_all(specs, self.shared.options).map_err(|e| SmtpError::Config {
            file: specs
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(" ")
                .into(),
            message: e.to_string().into(),
        })?;
        let mut zones: Vec<(Domain, Source)> = st
            .lists
            .iter()
            .map(|(z, l)| (z.clone(), Source::List(l.clone())))
            .collect();
        for zone in loaded {
            if zones.iter().any(|(n, _)| n == zone.name()) {
                continue;
            }
            let direct = zone
                .datasets()
                .iter()
                .all(|d| address_kind(d.kind()).is_some());
            zones.push((zone.name().clone(), Source::Zone { zone, direct }));
        }
        self.shared.current.store(Arc::new(Snapshot { zones }));
        Ok(true)
    }

    /// Whether `zone` (any case, trailing dot or not) is looked up here.
    pub fn has_zone(&self, zone: &str) -> bool {
        let zone = zone.strip_suffix('.').unwrap_or(zone);
        self.shared
            .current
            .load()
            .zones
            .iter()
            .any(|(z, _)| z.as_str().eq_ignore_ascii_case(zone))
    }

    /// The return codes `zone` answers for `ip` (empty when not listed or not a zone here).
    pub fn codes(&self, zone: &str, ip: IpAddr) -> Vec<ReturnCode> {
        let snap = self.shared.current.load();
        let mut out = Vec::new();
        if let Some((_, s)) = find(&snap, zone) {
            codes_into(s, ip, &mut out);
        }
        out
    }

    /// The score of `ip` on those of `lists` looked up here (the others count nothing):
    /// the weights of the lists whose answer matches their pattern.
    pub fn score(&self, lists: &[DnsList], ip: IpAddr) -> DnsScore {
        let mut s = DnsScore::default();
        self.add_score(lists, ip, &mut s);
        s
    }

    /// [`LocalLists::score`], added to `s`.
    pub fn add_score(&self, lists: &[DnsList], ip: IpAddr, s: &mut DnsScore) {
        let snap = self.shared.current.load();
        let mut codes = Vec::new();
        for l in lists {
            let Some((_, src)) = find(&snap, l.zone()) else {
                continue;
            };
            codes.clear();
            codes_into(src, ip, &mut codes);
            if codes.iter().any(|c| l.matches(c.addr())) {
                s.score += l.weight();
                s.listed_on.push(l.zone().into());
            }
        }
    }
}

fn find<'a>(snap: &'a Snapshot, zone: &str) -> Option<&'a (Domain, Source)> {
    let zone = zone.strip_suffix('.').unwrap_or(zone);
    snap.zones
        .iter()
        .find(|(z, _)| z.as_str().eq_ignore_ascii_case(zone))
}

fn push_codes(d: &Dataset, v4: Option<Ipv4Addr>, v6: Option<Ipv6Addr>, out: &mut Vec<ReturnCode>) {
    let hit = match address_kind(d.kind()) {
        Some(true) => v4.and_then(|a| d.list().lookup_ipv4(a)),
        Some(false) => v6.and_then(|a| d.list().lookup_ipv6(a)),
        None => None,
    };
    if let Some(l) = hit {
        for &c in l.codes() {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
}

fn codes_into(src: &Source, ip: IpAddr, out: &mut Vec<ReturnCode>) {
    match src {
        Source::List(l) => {
            if let Some(hit) = l.lookup_ip(ip.to_canonical()) {
                out.extend_from_slice(hit.codes());
            }
        }
        Source::Zone { zone, direct: true } => {
            // as the zone answers the query name of the address: an IPv4-mapped address
            // asks the IPv4 datasets, a 6to4 one both
            let has4 = zone
                .datasets()
                .iter()
                .any(|d| address_kind(d.kind()) == Some(true));
            let (v4, v6) = match ip {
                IpAddr::V4(a) => (Some(a), None),
                IpAddr::V6(a) => {
                    let o = a.octets();
                    match a.to_ipv4_mapped() {
                        Some(m) if has4 => (Some(m), None),
                        _ if has4 && o[0] == 0x20 && o[1] == 0x02 => {
                            (Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])), Some(a))
                        }
                        _ => (None, Some(a)),
                    }
                }
            };
            for d in zone.datasets() {
                push_codes(d, v4, v6, out);
            }
        }
        Source::Zone {
            zone,
            direct: false,
        } => {
            let answer = zone
                .query_name(&Subject::Ip(ip))
                .and_then(|q| zone.query(&q));
            if let Some(a) = answer {
                out.extend(a.codes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone_of(dir: &std::path::Path, name: &str, text: &str) -> DatasetSpec {
        let f = dir.join(name);
        std::fs::write(&f, text).unwrap();
        format!("bl.example:{name}:{}", f.display())
            .parse()
            .unwrap()
    }

    #[test]
    fn direct_lookups_answer_as_the_zone_does() {
        let dir = std::env::temp_dir().join(format!("rblkit-lists-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let specs = vec![
            zone_of(&dir, "ip4set", "192.0.2.0/24 :127.0.0.2:a\n!192.0.2.7\n"),
            zone_of(&dir, "ip4trie", "192.0.2.9 :127.0.0.4:b\n"),
            zone_of(&dir, "ip6trie", "2001:db8::/32 :127.0.0.3:c\n"),
        ];
        let lists = LocalLists::load(specs.clone(), LoadOptions::default()).unwrap();
        let zones = Zone::load_all(&specs, LoadOptions::default()).unwrap();
        let ips = [
            "192.0.2.1",
            "192.0.2.7",
            "192.0.2.9",
            "198.51.100.1",
            "2001:db8::1",
            "2001:db9::1",
            "::ffff:192.0.2.9",
            "2002:c000:0209::1",
        ];
        for ip in ips {
            let ip: IpAddr = ip.parse().unwrap();
            let mut want = zones[0]
                .query(&zones[0].query_name(&Subject::Ip(ip)).unwrap())
                .map(|a| a.codes)
                .unwrap_or_default();
            let mut got = lists.codes("bl.example", ip);
            want.sort();
            got.sort();
            assert_eq!(got, want, "{ip}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_renamed_into_place_is_read_at_the_first_look_once_quiet() {
        let dir = std::env::temp_dir().join(format!("rblkit-lists-mv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let spec = zone_of(&dir, "ip4set", "192.0.2.1 :127.0.0.2:a\n");
        let lists = LocalLists::load(vec![spec], LoadOptions::default()).unwrap();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(lists.codes("bl.example", ip).is_empty());
        let watching = lists
            .shared
            .watch
            .as_ref()
            .is_some_and(|w| w._watcher.is_some());
        // written elsewhere and renamed into place, as rsync does
        let tmp = dir.join(".ip4set.tmp");
        std::fs::write(&tmp, "198.51.100.1 :127.0.0.2:b\n").unwrap();
        std::fs::rename(&tmp, dir.join("ip4set")).unwrap();
        if watching {
            // the watch saw it: once quiet, the first look reads it
            std::thread::sleep(std::time::Duration::from_millis(
                crate::watch::QUIET_MS + 150,
            ));
            assert!(lists.reload_if_asked().unwrap());
        } else {
            // without a watch: the first look sees the change, the next one reads it
            assert!(!lists.reload_if_asked().unwrap());
            assert!(lists.reload_if_asked().unwrap());
        }
        assert_eq!(lists.codes("bl.example", ip).len(), 1);
        assert!(!lists.reload_if_asked().unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
