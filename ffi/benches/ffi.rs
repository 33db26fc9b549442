//! What the C boundary costs: lookups through the exported functions (NULL checks, panic
//! boundary, the answer filled with codes and the TXT rendered for the address) beside the
//! same lookups in Rust (`List::lookup_ipv4` plus `render_txt_into`), on one list of 1M
//! random /32 entries, in the same run. Also a dnset domain lookup both ways.
//!
//! `cargo bench -p rblkit-ffi --bench ffi -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, Throughput};
use rblkit::codes::ReturnCode;
use rblkit::{List, Listing};
use rblkit_ffi::*;
use std::hint::black_box;
use std::net::Ipv4Addr;

fn xorshift(x: &mut u32) -> u32 {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    *x
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let listing =
        Listing::new(ReturnCode::LISTED).with_txt("Listed: see https://bl.example/lookup?q=$");
    let mut x = 0x9e37_79b9u32;
    let mut b = List::builder();
    let mut ffi_b = std::ptr::null_mut();
    assert_eq!(rblkit_builder_new(&mut ffi_b), rblkit_result::RBLKIT_OK);
    let tmpl = "Listed: see https://bl.example/lookup?q=$";
    let mut addrs = Vec::with_capacity(1_000_000);
    for _ in 0..1_000_000 {
        let a = Ipv4Addr::from(xorshift(&mut x));
        addrs.push(a);
        b.insert(&rblkit::Subject::Ip(a.into()), listing.clone());
        let t = a.to_string();
        assert_eq!(
            rblkit_builder_insert(
                ffi_b,
                t.as_ptr().cast(),
                t.len(),
                0x7f00_0002,
                tmpl.as_ptr().cast(),
                tmpl.len()
            ),
            rblkit_result::RBLKIT_OK
        );
    }
    let list = b.build();
    let mut ffi_list = std::ptr::null_mut();
    assert_eq!(
        rblkit_builder_build(ffi_b, &mut ffi_list),
        rblkit_result::RBLKIT_OK
    );
    // half hits, half (mostly) misses
    let queries: Vec<Ipv4Addr> = addrs
        .iter()
        .step_by(2)
        .copied()
        .chain((0..500_000u32).map(|i| Ipv4Addr::from(i.wrapping_mul(2_654_435_761))))
        .take(4096)
        .collect();
    let mut answer = std::ptr::null_mut();
    assert_eq!(rblkit_answer_new(&mut answer), rblkit_result::RBLKIT_OK);

    let mut g = c.benchmark_group("ipv4_1m_lookup_with_txt");
    g.throughput(Throughput::Elements(queries.len() as u64));
    g.bench_function("rust List::lookup_ipv4 + render_txt_into", |bench| {
        let mut txt = String::with_capacity(128);
        let mut subject = String::with_capacity(16);
        bench.iter(|| {
            let mut n = 0usize;
            for q in &queries {
                if let Some(l) = list.lookup_ipv4(*q) {
                    use std::fmt::Write;
                    subject.clear();
                    let _ = write!(subject, "{q}");
                    txt.clear();
                    l.render_txt_into(0, &subject, &mut txt);
                    n += txt.len();
                }
            }
            black_box(n)
        })
    });
    g.bench_function(
        "C API rblkit_list_lookup_ipv4 + rblkit_answer_txt",
        |bench| {
            let mut buf = [0 as std::ffi::c_char; 256];
            bench.iter(|| {
                let mut n = 0usize;
                for q in &queries {
                    let o = q.octets();
                    rblkit_list_lookup_ipv4(ffi_list, o.as_ptr(), answer);
                    if rblkit_answer_listed(answer) {
                        let mut len = 0;
                        rblkit_answer_txt(answer, 0, buf.as_mut_ptr(), buf.len(), &mut len);
                        n += len;
                    }
                }
                black_box(n)
            })
        },
    );
    g.bench_function(
        "C API rblkit_list_lookup_ip (text) + rblkit_answer_txt",
        |bench| {
            let texts: Vec<String> = queries.iter().map(|q| q.to_string()).collect();
            let mut buf = [0 as std::ffi::c_char; 256];
            bench.iter(|| {
                let mut n = 0usize;
                for t in &texts {
                    rblkit_list_lookup_ip(ffi_list, t.as_ptr().cast(), t.len(), answer);
                    if rblkit_answer_listed(answer) {
                        let mut len = 0;
                        rblkit_answer_txt(answer, 0, buf.as_mut_ptr(), buf.len(), &mut len);
                        n += len;
                    }
                }
                black_box(n)
            })
        },
    );
    g.finish();
    rblkit_answer_free(answer);
    rblkit_list_free(ffi_list);
}
