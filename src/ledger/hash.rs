//! A fast non-cryptographic hasher for the ledger's tables (keys are chosen by senders, but
//! every key maps to its own record: a flood of colliding keys costs time, never correctness).

use std::hash::{BuildHasher, Hasher};

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Folded-multiply hasher: good high bits (hashbrown's tags) and low bits (its buckets).
#[derive(Default, Clone, Copy)]
pub(crate) struct FoldHasher(u64);

impl FoldHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        let m = u128::from(self.0 ^ v) * u128::from(K);
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for FoldHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        self.mix(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    #[inline]
    fn write_u128(&mut self, v: u128) {
        self.mix(v as u64);
        self.mix((v >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`FoldHasher`]s.
#[derive(Default, Clone, Copy)]
pub(crate) struct FoldBuild;

impl BuildHasher for FoldBuild {
    type Hasher = FoldHasher;
    #[inline]
    fn build_hasher(&self) -> FoldHasher {
        FoldHasher(0x243F_6A88_85A3_08D3)
    }
}

pub(crate) type Map<K, V> = hashbrown::HashMap<K, V, FoldBuild>;

/// Heap bytes of a hashbrown map with this capacity and entry size (buckets plus one
/// control byte each).
pub(crate) fn map_bytes<K, V>(m: &Map<K, V>) -> usize {
    if m.capacity() == 0 {
        return 0;
    }
    // capacity = buckets * 7/8 (rounded) for large tables; buckets is a power of two
    let buckets = (m.capacity() * 8 / 7).next_power_of_two();
    buckets * (std::mem::size_of::<(K, V)>() + 1)
}
