//! SHA-256 digests as lower-case hex: chunk text hashes, downloaded models, the
//! plugin cache's keys and the merge manifest all print them the same way.

use std::io::Read;
use std::path::Path;

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

/// Feeds the file at `path` to `hasher` a block at a time and returns its length;
/// `each` sees every block (to keep the file's first bytes, say). The file is never
/// held whole.
pub(crate) fn hash_file_into(
    path: &Path,
    hasher: &mut Sha256,
    mut each: impl FnMut(&[u8]),
) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; 1 << 20];
    let mut len = 0;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(len);
        }
        hasher.update(&buffer[..read]);
        each(&buffer[..read]);
        len += read as u64;
    }
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
