//! What the fuzz targets share: self-checking items, and damage read from
//! the fuzzer's bytes.
//!
//! An item says what it is: its index, then bytes derived from the index.
//! Whatever a damaged store hands back must be an item as written — never
//! bytes whose checksum did not verify.

use persist_queue_core::{Blob, MemoryStorage};

/// The item number `i`: 4 bytes of `i`, then `i % 13` bytes derived from it.
pub fn item(i: u32) -> Vec<u8> {
    let mut v = i.to_le_bytes().to_vec();
    v.extend((0..i % 13).map(|j| (i.wrapping_mul(31).wrapping_add(j)) as u8));
    v
}

/// The index of `bytes` if it is an item as [`item`] writes it.
pub fn index_of(bytes: &[u8]) -> Option<u32> {
    let i = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    (bytes == item(i).as_slice()).then_some(i)
}

/// Reads bytes off the fuzzer's input, 0 once it is used up.
pub struct Input<'a>(pub &'a [u8]);

impl Input<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from(self.byte()) | u16::from(self.byte()) << 8
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Damages `image` as the input says: up to 4 changes, each to one blob
/// (chosen among those present) at an offset: a flipped bit, a zeroed
/// range, bytes set to the input's, or (with `cuts`) a cut. Returns
/// whether anything changed.
///
/// A cut at a frame boundary cannot be told from a write that never became
/// durable (core/FORMAT.md, "What recovery can tell"), so the model target
/// damages in place only.
pub fn damage(image: &mut MemoryStorage, input: &mut Input<'_>, cuts: bool) -> bool {
    let blobs: Vec<Blob> = image.blobs().keys().copied().collect();
    if blobs.is_empty() {
        return false;
    }
    let mut changed = false;
    for _ in 0..(input.byte() % 5) {
        let blob = blobs[usize::from(input.byte()) % blobs.len()];
        let kind = input.byte() % 4;
        let at = usize::from(input.u16());
        let Some(bytes) = image.blob_mut(blob) else { continue };
        if bytes.is_empty() {
            continue;
        }
        let at = at % bytes.len();
        match kind {
            0 => bytes[at] ^= 1 << (input.byte() % 8),
            1 => {
                let n = usize::from(input.byte() % 32) + 1;
                let end = (at + n).min(bytes.len());
                bytes[at..end].fill(0);
            }
            2 if cuts => bytes.truncate(at),
            _ => {
                let n = usize::from(input.byte() % 8) + 1;
                for b in bytes.iter_mut().skip(at).take(n) {
                    *b = input.byte();
                }
            }
        }
        changed = true;
    }
    changed
}
