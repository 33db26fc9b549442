//! The deterministic corpus of mail-like text that `benches/extract.rs` and
//! `examples/extract_cost.rs` scan: the same bytes in every run.

/// A small deterministic generator (xorshift), so every run scans the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "offer",
    "account",
    "please",
    "click",
    "verify",
    "password",
    "invoice",
    "payment",
    "shipping",
    "meeting",
    "tomorrow",
    "regards",
    "thanks",
    "attached",
    "version",
    "update",
    "security",
    "unsubscribe",
    "newsletter",
    "discount",
    "limited",
    "today",
    "customer",
    "service",
];

const TLDS: &[&str] = &[
    "com", "net", "org", "co.uk", "de", "info", "xyz", "ru", "com.br", "io",
];

/// `per_mille_scale` stretches the odds of the special tokens: 1 gives about one link per
/// 25 words (a marketing mail), 10 about one per 250 (a conversation).
pub fn corpus(size: usize, per_mille_scale: u64) -> String {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut s = String::with_capacity(size + 256);
    while s.len() < size {
        // A paragraph of 20–80 words, sentences of 5–15 words.
        let words = 20 + r.next() % 60;
        let mut in_sentence = 0;
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            let roll = r.next() % (1000 * per_mille_scale);
            let n = r.next() % 10_000;
            let tld = r.pick(TLDS);
            match roll {
                0..=11 => s.push_str(&format!(
                    "https://www.shop{n}.{tld}/p/{}?id={n}",
                    r.pick(WORDS)
                )),
                12..=17 => s.push_str(&format!(
                    "http://mail{n}.example.{tld}/track?u=https%3A%2F%2Fland{n}.{tld}%2F"
                )),
                18..=23 => s.push_str(&format!("www.site{n}.{tld}")),
                24..=27 => s.push_str(&format!("user{n}@mail{n}.{tld}")),
                28..=30 => s.push_str(&format!("brand{n}.{tld}")),
                31..=33 => s.push_str(&format!("{}.{}.{}", n % 10, n % 7, n % 13)),
                34..=36 => s.push_str(&format!("report{n}.pdf")),
                37..=38 => s.push_str(&format!("192.0.{}.{}", n % 256, (n / 7) % 256)),
                39..=41 => s.push_str(&format!("${}.{:02}", n % 500, n % 100)),
                42..=44 => s.push_str("e.g."),
                _ => s.push_str(r.pick(WORDS)),
            }
            in_sentence += 1;
            if in_sentence > 5 + r.next() % 10 {
                s.push_str(if r.next().is_multiple_of(5) { "," } else { "." });
                in_sentence = 0;
            }
        }
        s.push_str(".\n\n");
        if r.next().is_multiple_of(8) {
            s.push_str("> quoted reply line from an earlier message, 10:30 on 2026-11-20\n");
        }
    }
    s
}
