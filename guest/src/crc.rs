//! CRC-32 (IEEE, the same function as `crc32fast`) for targets without a hardware CRC path,
//! i.e. the component: slicing-by-16 over 32-bit words, with tables laid out so that an
//! entry's byte offset comes straight out of a shift and a mask (no multiply by 4).
//!
//! On wasm, `crc32fast` falls back to a portable slicing-by-16 that costs about six
//! instructions per byte once compiled by Cranelift; this one costs about four.

/// Slicing tables as little-endian bytes: `TABLES[k][4 * b..4 * b + 4]` is the CRC of byte
/// `b` followed by `k` zero bytes.
static TABLES: [[u8; 1024]; 16] = tables();

const fn tables() -> [[u8; 1024]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        s += 1;
    }
    let mut out = [[0u8; 1024]; 16];
    let mut s = 0;
    while s < 16 {
        let mut i = 0;
        while i < 256 {
            let b = t[s][i].to_le_bytes();
            let mut j = 0;
            while j < 4 {
                out[s][4 * i + j] = b[j];
                j += 1;
            }
            i += 1;
        }
        s += 1;
    }
    out
}

/// The entry of table `k` at byte offset `off` (a multiple of 4, at most 1020: the
/// compiler sees the bound from the mask and drops the bounds check).
#[inline(always)]
fn at(k: usize, off: u32) -> u32 {
    let off = (off & 0x3fc) as usize;
    u32::from_le_bytes([
        TABLES[k][off],
        TABLES[k][off + 1],
        TABLES[k][off + 2],
        TABLES[k][off + 3],
    ])
}

/// Folds byte `i` (0 = lowest) of `w` through table `k`.
#[inline(always)]
fn lane(k: usize, w: u32, i: u32) -> u32 {
    if i == 0 {
        at(k, w << 2)
    } else {
        at(k, w >> (8 * i - 2))
    }
}

/// Continues the CRC-32 `crc` (of the bytes so far; 0 for none) over `buf`.
pub(crate) fn update(crc: u32, buf: &[u8]) -> u32 {
    let mut crc = !crc;
    let mut blocks = buf.chunks_exact(16);
    for block in &mut blocks {
        let word = |i: usize| u32::from_le_bytes(block[i..i + 4].try_into().expect("4 bytes"));
        let (a, b, c, d) = (word(0) ^ crc, word(4), word(8), word(12));
        crc = (lane(15, a, 0) ^ lane(14, a, 1) ^ lane(13, a, 2) ^ lane(12, a, 3))
            ^ (lane(11, b, 0) ^ lane(10, b, 1) ^ lane(9, b, 2) ^ lane(8, b, 3))
            ^ (lane(7, c, 0) ^ lane(6, c, 1) ^ lane(5, c, 2) ^ lane(4, c, 3))
            ^ (lane(3, d, 0) ^ lane(2, d, 1) ^ lane(1, d, 2) ^ lane(0, d, 3));
    }
    for &byte in blocks.remainder() {
        crc = (crc >> 8) ^ at(0, u32::from((crc as u8) ^ byte) << 2);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::update;

    #[test]
    fn matches_crc32fast_on_every_length_and_split() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in 0..data.len() {
            let want = crc32fast::hash(&data[..len]);
            assert_eq!(update(0, &data[..len]), want, "length {len}");
            let split = len / 3;
            let part = update(0, &data[..split]);
            assert_eq!(update(part, &data[split..len]), want, "split {split}/{len}");
        }
    }
}
