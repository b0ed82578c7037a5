//! Reading stored files.

/// The bytes of a stored file without MLLP leftovers: leading `0x0B` (start block) and a trailing
/// `0x1C` or `0x1C 0x0D` (end block). Every file of NHO's sample storage ends with `0x0D 0x1C`.
///
/// Nothing else is touched. A missing final CR after the last segment is fine: HL7 parsers
/// (including `hakobune_hl7::Message::parse`) accept it, and so should every reader.
pub fn strip_storage_artifacts(bytes: &[u8]) -> &[u8] {
    let mut b = bytes;
    while let [0x0B, rest @ ..] = b {
        b = rest;
    }
    loop {
        match b {
            [rest @ .., 0x1C] | [rest @ .., 0x1C, 0x0D] => b = rest,
            _ => return b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_mllp_leftovers() {
        assert_eq!(strip_storage_artifacts(b"MSH|x\r\x1c"), b"MSH|x\r");
        assert_eq!(strip_storage_artifacts(b"\x0bMSH|x\r\x1c\r"), b"MSH|x\r");
        assert_eq!(strip_storage_artifacts(b"MSH|x"), b"MSH|x");
        assert_eq!(strip_storage_artifacts(b"MSH|x\r"), b"MSH|x\r");
        assert_eq!(strip_storage_artifacts(b""), b"");
        assert_eq!(strip_storage_artifacts(b"\x0b\x1c"), b"");
        assert_eq!(strip_storage_artifacts(b"\x1c\x0d\x1c"), b"");
    }
}
