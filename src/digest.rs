//! SHA-256 digests as lower-case hex: chunk text hashes, downloaded models, the
//! plugin cache's keys and the merge manifest all print them the same way.

use sha2::{Digest, Sha256};

/// `bytes` as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn digests_are_lower_case_hex() {
        assert_eq!(super::hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
