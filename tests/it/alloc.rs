//! Lookups allocate nothing: a counting global allocator (the test binary's only one)
//! watches the calls.

use rblkit::codes::ReturnCode;
use rblkit::list::DomainPattern;
use rblkit::{List, Listing, Subject};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call to the system allocator unchanged; it only counts, in a
// const-initialised thread local that itself never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's layout, forwarded.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: `p` was allocated by `System` with `l`.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: `p` was allocated by `System` with `l`.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` makes on this thread (tests run in parallel; each counts its own).
pub(crate) fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

fn allocations_during(f: impl FnOnce()) -> usize {
    allocations(f).0
}

#[test]
fn lookups_do_not_allocate() {
    let mut b = List::builder();
    let l = Listing::new(ReturnCode::LISTED).with_txt("listed: $");
    for i in 0..10_000u32 {
        b.insert(
            &Subject::Ip(Ipv4Addr::from(0x0a00_0000 + i * 13).into()),
            l.clone(),
        );
    }
    b.insert(&"192.0.2.0/24".parse().unwrap(), l.clone());
    b.exclude(&"192.0.2.7".parse().unwrap());
    b.insert(&"2001:db8::/32".parse().unwrap(), l.clone());
    b.insert_domain(
        &".spam.example".parse::<DomainPattern>().unwrap(),
        l.clone(),
    );
    b.exclude_domain(&"ok.spam.example".parse::<DomainPattern>().unwrap());
    b.insert(&"sender1@relay.example".parse().unwrap(), l.clone());
    let list = b.build();

    let ips: Vec<Ipv4Addr> = (0..1000u32)
        .map(|i| Ipv4Addr::from(0x0a00_0000 + i * 7))
        .collect();
    let mut out = vec![None; ips.len()];
    let subject: Subject = "www.spam.example".parse().unwrap();
    let mut txt = String::with_capacity(256);
    let mut found = 0usize;
    let n = allocations_during(|| {
        for ip in &ips {
            found += usize::from(list.lookup_ipv4(*ip).is_some());
        }
        list.lookup_ipv4_batch(&ips, &mut out);
        found += usize::from(
            list.lookup_ipv6(Ipv6Addr::from(0x2001_0db8_u128 << 96))
                .is_some(),
        );
        found += usize::from(list.lookup_domain("A.WWW.Spam.Example.").is_some());
        found += usize::from(list.lookup_domain("ok.spam.example").is_some());
        found += usize::from(list.lookup_domain("unlisted.example").is_some());
        found += usize::from(list.lookup_email("Sender1@relay.example").is_some());
        found += usize::from(list.lookup(&subject).is_some());
        if let Some(hit) = list.lookup_ipv4("192.0.2.1".parse().unwrap()) {
            hit.render_txt_into(0, "192.0.2.1", &mut txt);
        }
    });
    assert_eq!(n, 0, "lookups allocated {n} times");
    assert_eq!(txt, "listed: 192.0.2.1");
    // 77 of the probed addresses are multiples of 13 steps: listed; then one IPv6 address,
    // two names under .spam.example (one excluded), one email address
    assert_eq!(found, 77 + 1 + 1 + 1 + 1);
    assert_eq!(out.iter().filter(|o| o.is_some()).count(), 77);
}
