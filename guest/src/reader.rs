//! Sequential frame reader over one segment file: decodes frames and reports damage,
//! leaving what to do about it to the caller.

use std::io;

use crate::frame::{HEADER_SIZE, Header, MAX_ENTRY_SIZE};
use crate::storage::{StorageFile, read_full_at};

/// The most bytes read from the file at a time (more when a frame is larger).
const CHUNK: usize = 1 << 20;

/// Bytes a reader's first read asks for; each later read doubles it, up to [`CHUNK`].
/// Reading only a segment's first frame (what open does for every sealed segment) then
/// costs one small read instead of a [`CHUNK`], while a full scan reaches [`CHUNK`]-sized
/// reads after a few refills.
const FIRST_READ: usize = 16 << 10;

/// Why the bytes at an offset are not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BadFrame {
    /// Fewer than a header's bytes remain.
    ShortHeader,
    /// The length field exceeds the largest entry.
    BadLength(u32),
    /// The header promises more bytes than remain.
    ShortBody,
    /// The CRC does not match.
    Checksum,
}

impl BadFrame {
    pub(crate) fn describe(self) -> String {
        match self {
            BadFrame::ShortHeader => "partial frame header".into(),
            BadFrame::BadLength(len) => {
                format!("length field {len} exceeds the maximum entry size")
            }
            BadFrame::ShortBody => "frame body cut short".into(),
            BadFrame::Checksum => "checksum mismatch".into(),
        }
    }
}

/// What [`FrameReader::next_frame`] found.
#[derive(Debug)]
pub(crate) enum Next<'a> {
    /// A frame whose CRC is valid. `offset` is where it starts.
    Frame {
        lsn: u64,
        data: &'a [u8],
        offset: u64,
        /// The frame's stored CRC.
        crc: u32,
    },
    /// The readable range ended exactly on a frame boundary.
    End,
    /// The bytes at `offset` are not a frame; the reader does not move past them.
    Bad { offset: u64, kind: BadFrame },
}

/// Reads frames from `pos` up to `end` through a reusable buffer.
#[derive(Debug)]
pub(crate) struct FrameReader {
    file: Box<dyn StorageFile>,
    /// The read buffer; only `buf[..filled]` holds file bytes. It only ever grows, so a
    /// refill does not zero it again.
    buf: Vec<u8>,
    /// Bytes of `buf` read from the file.
    filled: usize,
    /// File offset of `buf[0]`.
    buf_start: u64,
    /// Bytes the next refill asks for (at least).
    read_ahead: usize,
    /// Offset of the next frame.
    pos: u64,
    /// Nothing at or past this offset is read.
    end: u64,
}

impl FrameReader {
    /// A reader over `file` from offset 0 to `end` (the file's length when `None`).
    pub(crate) fn new(file: Box<dyn StorageFile>, end: Option<u64>) -> io::Result<Self> {
        let end = match end {
            Some(end) => end,
            None => file.size()?,
        };
        Ok(FrameReader {
            file,
            buf: Vec::new(),
            filled: 0,
            buf_start: 0,
            read_ahead: FIRST_READ,
            pos: 0,
            end,
        })
    }

    /// Offset of the next frame (the end of the last good one).
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Moves to `pos`: the next frame is decoded there.
    pub(crate) fn seek(&mut self, pos: u64) {
        self.pos = pos.min(self.end);
    }

    /// The offset past which nothing is read.
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Moves the end out to `end` once more of the file may be read (a growing segment).
    /// The end never moves back.
    pub(crate) fn extend_to(&mut self, end: u64) {
        self.end = self.end.max(end);
    }

    /// The file being read.
    pub(crate) fn file(&self) -> &dyn StorageFile {
        self.file.as_ref()
    }

    /// Decodes the frame at the current position and moves past it if it is whole.
    pub(crate) fn next_frame(&mut self) -> io::Result<Next<'_>> {
        let offset = self.pos;
        let remaining = self.end - offset;
        if remaining == 0 {
            return Ok(Next::End);
        }
        if remaining < HEADER_SIZE as u64 {
            return Ok(Next::Bad {
                offset,
                kind: BadFrame::ShortHeader,
            });
        }
        let header = Header::parse(self.bytes(HEADER_SIZE)?);
        if header.len as usize > MAX_ENTRY_SIZE {
            return Ok(Next::Bad {
                offset,
                kind: BadFrame::BadLength(header.len),
            });
        }
        if header.frame_len() > remaining {
            return Ok(Next::Bad {
                offset,
                kind: BadFrame::ShortBody,
            });
        }
        let frame_len = header.frame_len() as usize;
        let frame = self.bytes(frame_len)?;
        let data = &frame[HEADER_SIZE..];
        if !header.matches(data) {
            return Ok(Next::Bad {
                offset,
                kind: BadFrame::Checksum,
            });
        }
        self.pos += frame_len as u64;
        // Re-borrow after moving `pos`: the bytes are still in the buffer.
        let start = (offset - self.buf_start) as usize + HEADER_SIZE;
        Ok(Next::Frame {
            lsn: header.lsn,
            data: &self.buf[start..start + header.len as usize],
            offset,
            crc: header.crc,
        })
    }

    /// The `n` bytes at the current position (the caller checked they are before `end`).
    fn bytes(&mut self, n: usize) -> io::Result<&[u8]> {
        let have_from = self.pos.checked_sub(self.buf_start);
        let cached = have_from.is_some_and(|from| from as usize + n <= self.filled);
        if !cached {
            let want = self.read_ahead.min((self.end - self.pos) as usize).max(n);
            self.read_ahead = (self.read_ahead * 2).min(CHUNK);
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            let got = read_full_at(self.file.as_ref(), &mut self.buf[..want], self.pos)?;
            self.filled = got;
            self.buf_start = self.pos;
            if got < n {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("segment shrank while being read at offset {}", self.pos),
                ));
            }
        }
        let from = (self.pos - self.buf_start) as usize;
        Ok(&self.buf[from..from + n])
    }
}

/// The LSNs a CRC-valid frame in `from..end` could carry: from the LSN `expect` of the
/// next frame (or the `hint` range of the segment's first frame, when nothing was read yet)
/// up to one more per header that fits; without either, any LSN.
pub(crate) fn search_bounds(
    expect: Option<u64>,
    hint: Option<(u64, u64)>,
    from: u64,
    end: u64,
) -> (u64, u64) {
    let headers = end.saturating_sub(from) / HEADER_SIZE as u64;
    match (expect, hint) {
        (Some(lsn), _) => (lsn, lsn.saturating_add(headers)),
        (None, Some((lo, hi))) => (lo, hi.saturating_add(headers)),
        (None, None) => (1, u64::MAX),
    }
}

/// Looks for a CRC-valid frame starting anywhere in `from..end` whose LSN lies in
/// `lsns` (see [`search_bounds`]). Returns its offset and LSN. Only headers with a
/// plausible LSN and length are checksummed, so a long stretch of garbage is scanned
/// quickly.
pub(crate) fn find_valid_frame(
    file: &dyn StorageFile,
    from: u64,
    end: u64,
    lsns: (u64, u64),
) -> io::Result<Option<(u64, u64)>> {
    let (min_lsn, max_lsn) = lsns;
    let mut chunk = vec![0u8; CHUNK.min(end.saturating_sub(from) as usize)];
    let mut body = Vec::new();
    let mut base = from;
    while base + HEADER_SIZE as u64 <= end {
        let want = chunk.len().min((end - base) as usize);
        let got = read_full_at(file, &mut chunk[..want], base)?;
        if got < HEADER_SIZE {
            break;
        }
        for i in 0..=got - HEADER_SIZE {
            let header = Header::parse(&chunk[i..]);
            let offset = base + i as u64;
            let plausible = (min_lsn..=max_lsn).contains(&header.lsn)
                && header.len as usize <= MAX_ENTRY_SIZE
                && offset + header.frame_len() <= end;
            if !plausible {
                continue;
            }
            body.resize(header.len as usize, 0);
            let n = read_full_at(file, &mut body, offset + HEADER_SIZE as u64)?;
            if n == body.len() && header.matches(&body) {
                return Ok(Some((offset, header.lsn)));
            }
        }
        // Overlap so a header straddling two chunks is still seen.
        base += (got - HEADER_SIZE + 1) as u64;
    }
    Ok(None)
}
