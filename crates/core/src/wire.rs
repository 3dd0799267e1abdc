//! Byte formats the adapter reads from Envoy, kept pure so they are tested natively: the
//! proxy-wasm header-map serialisation, which brings all request headers in one host call
//! (and carries a local reply's headers).

/// Name/value pairs of a header map as proxy-wasm serialises them: a little-endian `u32`
/// count, then a `u32` length pair per header, then each name and value followed by a NUL.
/// `None` when the bytes do not follow that layout.
pub fn header_pairs(bytes: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let count = read_u32(bytes, 0)? as usize;
    // Each pair takes at least 8 bytes of lengths and 2 NULs: a count that cannot fit is
    // corrupt, and must not size an allocation.
    if count > bytes.len() / 10 {
        return None;
    }
    let mut pairs = Vec::with_capacity(count);
    let mut data = 4 + count * 8;
    for i in 0..count {
        let name_len = read_u32(bytes, 4 + i * 8)? as usize;
        let value_len = read_u32(bytes, 8 + i * 8)? as usize;
        let name = bytes.get(data..data.checked_add(name_len)?)?;
        data += name_len + 1;
        let value = bytes.get(data..data.checked_add(value_len)?)?;
        data += value_len + 1;
        pairs.push((name, value));
    }
    (data <= bytes.len()).then_some(pairs)
}

/// The inverse of [`header_pairs`]: pairs in proxy-wasm's header-map serialisation.
pub fn serialize_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let text: usize = pairs.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(4 + pairs.len() * 8 + text);
    out.extend((pairs.len() as u32).to_le_bytes());
    for (name, value) in pairs {
        out.extend((name.len() as u32).to_le_bytes());
        out.extend((value.len() as u32).to_le_bytes());
    }
    for (name, value) in pairs {
        out.extend(name.as_bytes());
        out.push(0);
        out.extend(value.as_bytes());
        out.push(0);
    }
    out
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialise(pairs: &[(&str, &str)]) -> Vec<u8> {
        serialize_pairs(pairs)
    }

    #[test]
    fn header_pairs_round_trip() {
        let headers = [
            (":path", "/v1/chat"),
            ("x-task", ""),
            ("content-type", "json"),
        ];
        let bytes = serialise(&headers);
        let pairs = header_pairs(&bytes).unwrap();
        let text: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(n, v)| {
                (
                    std::str::from_utf8(n).unwrap(),
                    std::str::from_utf8(v).unwrap(),
                )
            })
            .collect();
        assert_eq!(text, headers);
        assert_eq!(header_pairs(&serialise(&[])).unwrap(), vec![]);
    }

    #[test]
    fn corrupt_header_pairs_are_rejected() {
        let bytes = serialise(&[(":path", "/v1/chat")]);
        for cut in 0..bytes.len() {
            assert_eq!(header_pairs(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut huge_count = bytes.clone();
        huge_count[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(header_pairs(&huge_count), None);
        let mut huge_len = bytes;
        huge_len[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(header_pairs(&huge_len), None);
    }
}
