//! Byte formats the adapter exchanges with Envoy, kept pure so they are tested natively:
//! the proxy-wasm header-map serialisation (all request headers in one host call), and the
//! two protobuf messages behind the one filter-state value per request (its declaration and
//! the `google.protobuf.Struct` it holds).

/// The type Envoy is told the filter-state value has; `%CEL(...)%` then reads single fields
/// and `%FILTER_STATE(...:TYPED)%` prints the value as a JSON object.
pub const STRUCT_TYPE_URL: &str = "type.googleapis.com/google.protobuf.Struct";

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

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]))
}

/// `envoy.source.extensions.common.wasm.DeclarePropertyArguments` for a filter-state value
/// named `name` holding a `google.protobuf.Struct` (type `Protobuf` = 3), writable, living
/// as long as the filter chain (span 0, the default, so not encoded).
pub fn declare_struct_property(name: &str) -> Vec<u8> {
    let mut args = Vec::with_capacity(name.len() + STRUCT_TYPE_URL.len() + 8);
    length_delimited(&mut args, 1, name.as_bytes());
    varint(&mut args, 3 << 3);
    varint(&mut args, 3);
    length_delimited(&mut args, 4, STRUCT_TYPE_URL.as_bytes());
    args
}

/// A `google.protobuf.Struct` whose fields are all strings: every value keeps the exact text
/// the access log has always shown (`0.000123`, `20.000`), not a float's rendering of it.
pub fn string_struct<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.len() * 48);
    let mut entry = Vec::new();
    let mut value = Vec::new();
    for (key, text) in fields {
        value.clear();
        // Value.string_value = 3.
        length_delimited(&mut value, 3, text.as_ref().as_bytes());
        entry.clear();
        // Struct.FieldsEntry: key = 1, value = 2.
        length_delimited(&mut entry, 1, key.as_ref().as_bytes());
        length_delimited(&mut entry, 2, &value);
        // Struct.fields = 1 (a map: repeated entries).
        length_delimited(&mut out, 1, &entry);
    }
    out
}

fn length_delimited(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serialise(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = (pairs.len() as u32).to_le_bytes().to_vec();
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

    #[test]
    fn varints_use_seven_bits_per_byte() {
        let mut out = Vec::new();
        varint(&mut out, 1);
        varint(&mut out, 300);
        assert_eq!(out, [0x01, 0xac, 0x02]);
    }

    #[test]
    fn struct_encoding_matches_protoc() {
        // Struct { fields { key: "a" value { string_value: "xy" } } }, by the protobuf
        // encoding rules (Envoy decoding it for real is checked end to end).
        let expected = [
            0x0a, 0x09, 0x0a, 0x01, b'a', 0x12, 0x04, 0x1a, 0x02, b'x', b'y',
        ];
        assert_eq!(string_struct(&[("a", "xy")]), expected);
    }

    #[test]
    fn declaration_names_the_struct_type() {
        let args = declare_struct_property("tier_router");
        assert_eq!(&args[..13], b"\x0a\x0btier_router");
        assert_eq!(&args[13..15], [0x18, 0x03]);
        assert_eq!(args[15], 0x22);
        assert_eq!(args[16] as usize, STRUCT_TYPE_URL.len());
        assert_eq!(&args[17..], STRUCT_TYPE_URL.as_bytes());
    }
}
