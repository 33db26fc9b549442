//! Batched UDP (Linux): up to [`BATCH`] queries taken with one `recvmmsg`, answered one by
//! one into fixed buffers, and sent with one `sendmmsg`. Under load the two system calls are
//! shared by many queries; when one query waits alone it is answered at once
//! (`MSG_WAITFORONE`: the call returns as soon as one datagram is in).

use super::answer::Scratch;
use nix::sys::socket::{recvmmsg, sendmmsg, MsgFlags, MultiHeaders, SockaddrStorage};
use std::io::{IoSlice, IoSliceMut};
use std::net::{IpAddr, UdpSocket};
use std::os::fd::AsRawFd;

/// Datagrams taken per system call, at most.
pub(super) const BATCH: usize = 32;

/// The size of one buffer: the largest answer the server builds over UDP.
const SIZE: usize = 4096;

/// Receive and send buffers for one worker, allocated once.
pub(super) struct Batch {
    inb: Box<[u8]>,
    out: Box<[u8]>,
    /// Received length and peer per slot.
    got: [(usize, Option<SockaddrStorage>); BATCH],
    /// Answer length per slot (0: nothing to send).
    lens: [usize; BATCH],
    recv: MultiHeaders<SockaddrStorage>,
    send: MultiHeaders<SockaddrStorage>,
}

impl Batch {
    pub(super) fn new() -> Batch {
        Batch {
            inb: vec![0; BATCH * SIZE].into_boxed_slice(),
            out: vec![0; BATCH * SIZE].into_boxed_slice(),
            got: [(0, None); BATCH],
            lens: [0; BATCH],
            recv: MultiHeaders::preallocate(BATCH, None),
            send: MultiHeaders::preallocate(BATCH, None),
        }
    }

    /// Waits for datagrams (up to the socket's read timeout), answers each with `answer`, and
    /// sends the answers. Returns how many datagrams came in (0 on timeout or error).
    pub(super) fn run(
        &mut self,
        sock: &UdpSocket,
        scratch: &mut Scratch,
        mut answer: impl FnMut(&[u8], IpAddr, &mut Scratch, &mut [u8]) -> usize,
    ) -> usize {
        let fd = sock.as_raw_fd();
        let n = {
            let mut rest: &mut [u8] = &mut self.inb;
            let mut iovs: [[IoSliceMut<'_>; 1]; BATCH] = std::array::from_fn(|_| {
                let (a, b) = std::mem::take(&mut rest).split_at_mut(SIZE);
                rest = b;
                [IoSliceMut::new(a)]
            });
            match recvmmsg(
                fd,
                &mut self.recv,
                iovs.iter_mut(),
                MsgFlags::MSG_WAITFORONE,
                None,
            ) {
                Ok(results) => {
                    let mut k = 0;
                    for (slot, r) in self.got.iter_mut().zip(results) {
                        *slot = (r.bytes, r.address);
                        k += 1;
                    }
                    k
                }
                Err(_) => 0,
            }
        };
        let mut any = false;
        for i in 0..n {
            self.lens[i] = 0;
            let (len, peer) = self.got[i];
            let Some(ip) = peer.as_ref().and_then(ip_of) else {
                continue;
            };
            let query = &self.inb[i * SIZE..i * SIZE + len.min(SIZE)];
            let out = &mut self.out[i * SIZE..(i + 1) * SIZE];
            self.lens[i] = answer(query, ip, scratch, out);
            any |= self.lens[i] > 0;
        }
        if any {
            self.send_answers(fd, n);
        }
        n
    }

    /// Sends the non-empty answers of the first `n` slots, with as few calls as the kernel
    /// lets (it may take fewer than it is given).
    fn send_answers(&mut self, fd: std::os::fd::RawFd, n: usize) {
        let mut addrs: [Option<SockaddrStorage>; BATCH] = [None; BATCH];
        let mut iovs: [[IoSlice<'_>; 1]; BATCH] = std::array::from_fn(|_| [IoSlice::new(&[])]);
        let mut m = 0;
        for i in 0..n {
            if self.lens[i] > 0 {
                addrs[m] = self.got[i].1;
                iovs[m] = [IoSlice::new(&self.out[i * SIZE..i * SIZE + self.lens[i]])];
                m += 1;
            }
        }
        let mut from = 0;
        while from < m {
            let sent = sendmmsg(
                fd,
                &mut self.send,
                iovs[from..m].iter(),
                &addrs[from..m],
                [],
                MsgFlags::empty(),
            );
            match sent {
                Ok(r) => {
                    let k = r.count();
                    // a datagram the kernel would not take is skipped, as a failed
                    // `send_to` would be
                    from += k.max(1);
                }
                Err(_) => from += 1,
            }
        }
    }
}

/// The IP address of a peer, as `recv_from` would give it.
fn ip_of(a: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    a.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}
