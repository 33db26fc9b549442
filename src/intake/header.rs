//! A header block read in place: the fields' names and raw (still folded) values, and
//! where the body starts. The `Received` parser reads folded values as they are, so nothing
//! is copied or decoded here.

use std::borrow::Cow;

/// The fields of a header block, in order, and the offset of the body.
pub(crate) struct Headers<'a> {
    fields: Vec<(&'a [u8], &'a [u8])>,
    pub(crate) body_at: usize,
}

/// The most fields read; a longer header block is read up to there (the body offset is
/// still found).
const MAX_FIELDS: usize = 1000;

impl<'a> Headers<'a> {
    /// Reads the header block at the start of `raw`: up to the first empty line (CRLF or
    /// LF), or the end. Lines that are neither a field nor a continuation are skipped.
    pub(crate) fn parse(raw: &'a [u8]) -> Headers<'a> {
        let mut fields: Vec<(&'a [u8], &'a [u8])> = Vec::new();
        let mut cur: Option<(usize, usize, usize)> = None; // name end, value start, value end
        let mut name_start = 0;
        let mut i = 0;
        let body_at = loop {
            if i >= raw.len() {
                break raw.len();
            }
            let end = memchr::memchr(b'\n', &raw[i..]).map_or(raw.len(), |k| i + k);
            let line = &raw[i..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let next = (end + 1).min(raw.len());
            if line.is_empty() {
                break next;
            }
            if matches!(line[0], b' ' | b'\t') {
                // A continuation: the value grows to this line's end.
                if let Some(c) = cur.as_mut() {
                    c.2 = i + line.len();
                }
            } else {
                if let Some((ne, vs, ve)) = cur.take() {
                    if fields.len() < MAX_FIELDS {
                        fields.push((&raw[name_start..ne], &raw[vs..ve]));
                    }
                }
                if let Some(colon) = memchr::memchr(b':', line) {
                    name_start = i;
                    cur = Some((i + colon, i + colon + 1, i + line.len()));
                }
            }
            i = next;
        };
        if let Some((ne, vs, ve)) = cur {
            if fields.len() < MAX_FIELDS {
                fields.push((&raw[name_start..ne], &raw[vs..ve]));
            }
        }
        Headers { fields, body_at }
    }

    /// The values of the fields named `name` (ASCII case-insensitive), in order, as text
    /// (invalid UTF-8 replaced).
    pub(crate) fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = Cow<'a, str>> + 's {
        let name = name.as_bytes();
        self.fields
            .iter()
            .filter(move |(n, _)| n.trim_ascii_end().eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v.trim_ascii()))
    }
}

#[cfg(test)]
mod tests {
    use super::Headers;

    #[test]
    fn fields_folding_and_body() {
        let raw = b"Received: from a\r\n\tby b; date\r\nsubject: x\r\nRECEIVED : second\nbogus line\n\r\nbody\r\n";
        let h = Headers::parse(raw);
        let r: Vec<_> = h.all("Received").collect();
        assert_eq!(r, ["from a\r\n\tby b; date", "second"]);
        assert_eq!(h.all("Subject").collect::<Vec<_>>(), ["x"]);
        assert_eq!(&raw[h.body_at..], b"body\r\n");
        let h = Headers::parse(b"A: 1\nB: 2");
        assert_eq!(h.body_at, 9);
        assert_eq!(h.all("b").collect::<Vec<_>>(), ["2"]);
        let h = Headers::parse(b"");
        assert_eq!(h.body_at, 0);
    }
}
