//! Files: what an upload is (recognised from its bytes, never from its name), how big
//! an image is, and where a stored file lives ([`StorageKey`]).
//!
//! Everything here works on the first bytes of a file (its *head*, see [`SNIFF_LEN`]),
//! so an upload can be classified while it streams, without holding it in memory. The
//! parsers only index within the slice they are given: truncated or hostile input
//! answers "unknown", never a panic.

use std::fmt;

use uuid::Uuid;

use crate::account::AccountId;
pub use crate::ids::AttachmentId;
use crate::ids::MessageId;

/// How many leading bytes [`sniff`] and [`image_size`] want to see. Fewer work too (a
/// short file), with less chance of finding a JPEG's size behind large metadata.
pub const SNIFF_LEN: usize = 64 * 1024;

/// The kind of file an attachment is, as both dialects render it (`file_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileType {
    /// A picture: JPEG, PNG, GIF or WebP.
    Image,
    /// A moving picture: MP4, QuickTime, WebM or Matroska.
    Video,
    /// Sound: MP3, M4A, Ogg, WAV or FLAC.
    Audio,
    /// Anything else: PDF, ZIP, plain text, unknown bytes.
    File,
}

impl FileType {
    /// The wire name: `image`, `video`, `audio` or `file`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Image => "image",
            FileType::Video => "video",
            FileType::Audio => "audio",
            FileType::File => "file",
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sniffed {
    /// The media type, e.g. `image/png`.
    pub mime: &'static str,
    /// The extension stored files get, without the dot, e.g. `png`. Always a valid
    /// [`StorageKey`] extension.
    pub extension: &'static str,
    /// The broad kind both dialects show for it.
    pub file_type: FileType,
}

impl Sniffed {
    const fn new(mime: &'static str, extension: &'static str, file_type: FileType) -> Self {
        Self {
            mime,
            extension,
            file_type,
        }
    }

    /// `image/jpeg`, stored as `.jpg`.
    pub const JPEG: Self = Self::new("image/jpeg", "jpg", FileType::Image);
    /// `image/png`, stored as `.png`.
    pub const PNG: Self = Self::new("image/png", "png", FileType::Image);
    /// `image/gif` (GIF87a or GIF89a), stored as `.gif`.
    pub const GIF: Self = Self::new("image/gif", "gif", FileType::Image);
    /// `image/webp`, stored as `.webp`.
    pub const WEBP: Self = Self::new("image/webp", "webp", FileType::Image);
    /// `application/pdf`, stored as `.pdf`.
    pub const PDF: Self = Self::new("application/pdf", "pdf", FileType::File);
    /// `video/mp4`: any ISO media file whose brand is not audio, QuickTime or an
    /// image format. Stored as `.mp4`.
    pub const MP4: Self = Self::new("video/mp4", "mp4", FileType::Video);
    /// `audio/mp4` (M4A, M4B, M4P, F4A, F4B brands), stored as `.m4a`.
    pub const M4A: Self = Self::new("audio/mp4", "m4a", FileType::Audio);
    /// `video/quicktime`, stored as `.mov`.
    pub const MOV: Self = Self::new("video/quicktime", "mov", FileType::Video);
    /// `video/webm`: Matroska whose document type says `webm`. Stored as `.webm`.
    pub const WEBM: Self = Self::new("video/webm", "webm", FileType::Video);
    /// `video/x-matroska`: any other Matroska file. Stored as `.mkv`.
    pub const MKV: Self = Self::new("video/x-matroska", "mkv", FileType::Video);
    /// `audio/mpeg`: an ID3 tag or an MPEG layer III frame at the start. Stored as
    /// `.mp3`.
    pub const MP3: Self = Self::new("audio/mpeg", "mp3", FileType::Audio);
    /// `audio/ogg`, stored as `.ogg`.
    pub const OGG: Self = Self::new("audio/ogg", "ogg", FileType::Audio);
    /// `audio/wav`, stored as `.wav`.
    pub const WAV: Self = Self::new("audio/wav", "wav", FileType::Audio);
    /// `audio/flac`, stored as `.flac`.
    pub const FLAC: Self = Self::new("audio/flac", "flac", FileType::Audio);
    /// `application/zip` (and the formats built on it), stored as `.zip`.
    pub const ZIP: Self = Self::new("application/zip", "zip", FileType::File);
    /// `text/plain`: no known signature, valid UTF-8 without NUL bytes. Stored as
    /// `.txt`.
    pub const TEXT: Self = Self::new("text/plain", "txt", FileType::File);
    /// `application/octet-stream`: none of the above. Stored as `.bin`.
    pub const BINARY: Self = Self::new("application/octet-stream", "bin", FileType::File);

    /// Every recognised kind.
    pub const ALL: [Self; 17] = [
        Self::JPEG,
        Self::PNG,
        Self::GIF,
        Self::WEBP,
        Self::PDF,
        Self::MP4,
        Self::M4A,
        Self::MOV,
        Self::WEBM,
        Self::MKV,
        Self::MP3,
        Self::OGG,
        Self::WAV,
        Self::FLAC,
        Self::ZIP,
        Self::TEXT,
        Self::BINARY,
    ];

    /// The kind a stored file's extension (given by [`sniff`] at upload) stands for;
    /// anything else is [`Sniffed::BINARY`].
    pub fn for_extension(extension: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|kind| kind.extension == extension)
            .unwrap_or(Self::BINARY)
    }

    /// Whether a room avatar may be this: JPEG, PNG, GIF or WebP only.
    pub fn is_avatar_image(&self) -> bool {
        [Self::JPEG, Self::PNG, Self::GIF, Self::WEBP].contains(self)
    }
}

/// Recognises a file from its first bytes (ideally [`SNIFF_LEN`] of them, or the whole
/// file when shorter). Anything unrecognised is `text/plain` when it is valid UTF-8
/// without NUL bytes (an empty file included), else `application/octet-stream`.
pub fn sniff(head: &[u8]) -> Sniffed {
    magic(head).unwrap_or_else(|| {
        if looks_like_text(head) {
            Sniffed::TEXT
        } else {
            Sniffed::BINARY
        }
    })
}

fn magic(head: &[u8]) -> Option<Sniffed> {
    let at = |offset: usize, magic: &[u8]| {
        head.get(offset..offset + magic.len())
            .is_some_and(|b| b == magic)
    };
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Some(Sniffed::JPEG);
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Some(Sniffed::PNG);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some(Sniffed::GIF);
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some(Sniffed::WEBP);
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some(Sniffed::WAV);
    }
    if at(0, b"%PDF-") {
        return Some(Sniffed::PDF);
    }
    if at(4, b"ftyp") {
        return iso_bmff(head.get(8..12)?);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Some(matroska(head));
    }
    if at(0, b"OggS") {
        return Some(Sniffed::OGG);
    }
    if at(0, b"fLaC") {
        return Some(Sniffed::FLAC);
    }
    if at(0, b"ID3") || mp3_frame_sync(head) {
        return Some(Sniffed::MP3);
    }
    if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") || at(0, b"PK\x07\x08") {
        return Some(Sniffed::ZIP);
    }
    None
}

/// An ISO base media file (`....ftyp<brand>`), told apart by its major brand. Image
/// brands (HEIF, AVIF) are not recognised here: they are neither video nor an avatar.
fn iso_bmff(brand: &[u8]) -> Option<Sniffed> {
    match brand {
        b"M4A " | b"M4B " | b"M4P " | b"F4A " | b"F4B " => Some(Sniffed::M4A),
        b"qt  " => Some(Sniffed::MOV),
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1" | b"avif"
        | b"avis" => None,
        _ => Some(Sniffed::MP4),
    }
}

/// EBML: WebM when the DocType element (`0x42 0x82`, length, text) says `webm`.
fn matroska(head: &[u8]) -> Sniffed {
    let window = &head[..head.len().min(64)];
    if window
        .windows(6)
        .any(|w| w == [0x42, 0x82, 0x84, b'w', b'e', b'b'])
    {
        Sniffed::WEBM
    } else {
        Sniffed::MKV
    }
}

/// An MPEG audio layer III frame header at the very start (no ID3 tag).
fn mp3_frame_sync(head: &[u8]) -> bool {
    let [0xFF, b1, b2, ..] = *head else {
        return false;
    };
    let sync = b1 & 0xE0 == 0xE0;
    let version = (b1 >> 3) & 0b11; // 0b01 is reserved
    let layer = (b1 >> 1) & 0b11; // 0b01 is layer III
    let bitrate = b2 >> 4; // 0b1111 is invalid
    let sample_rate = (b2 >> 2) & 0b11; // 0b11 is reserved
    sync && version != 0b01 && layer == 0b01 && bitrate != 0b1111 && sample_rate != 0b11
}

/// Valid UTF-8 without NULs. A multi-byte character cut off by the end of `head` is
/// forgiven: the head of a text file may end mid-character.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// An image's width and height in pixels, read from its first bytes: PNG (IHDR), GIF
/// (logical screen), WebP (VP8, VP8L, VP8X) and JPEG (the first SOFn segment). `None`
/// for anything else, a truncated head, or a zero dimension.
pub fn image_size(head: &[u8]) -> Option<(u32, u32)> {
    let size = match sniff(head) {
        s if s == Sniffed::PNG => png_size(head),
        s if s == Sniffed::GIF => gif_size(head),
        s if s == Sniffed::WEBP => webp_size(head),
        s if s == Sniffed::JPEG => jpeg_size(head),
        _ => None,
    }?;
    (size.0 > 0 && size.1 > 0).then_some(size)
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn le_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le_u24(b: &[u8], at: usize) -> Option<u32> {
    let x = b.get(at..at + 3)?;
    Some(u32::from(x[0]) | u32::from(x[1]) << 8 | u32::from(x[2]) << 16)
}

fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(12..16)? != b"IHDR" {
        return None;
    }
    Some((be_u32(b, 16)?, be_u32(b, 20)?))
}

fn gif_size(b: &[u8]) -> Option<(u32, u32)> {
    Some((le_u16(b, 6)?.into(), le_u16(b, 8)?.into()))
}

fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        // Lossy: a key frame's start code, then 14-bit width and height.
        b"VP8 " => {
            if b.get(23..26)? != [0x9D, 0x01, 0x2A] {
                return None;
            }
            Some((
                u32::from(le_u16(b, 26)? & 0x3FFF),
                u32::from(le_u16(b, 28)? & 0x3FFF),
            ))
        }
        // Lossless: signature 0x2F, then width-1 and height-1 in 14 bits each.
        b"VP8L" => {
            if *b.get(20)? != 0x2F {
                return None;
            }
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        // Extended: flags, then canvas width-1 and height-1 in 24 bits each.
        b"VP8X" => Some((le_u24(b, 24)? + 1, le_u24(b, 27)? + 1)),
        _ => None,
    }
}

/// Walks the JPEG's marker segments up to the first start-of-frame. Every step moves
/// forward and every read is bounds-checked, so it ends on any input.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2; // past SOI
    loop {
        if *b.get(i)? != 0xFF {
            return None;
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while *b.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *b.get(i)?;
        i += 1;
        match marker {
            // Markers without a length: TEM, RSTn.
            0x01 | 0xD0..=0xD7 => continue,
            // End of image or start of scan before any frame header: no size to find.
            0xD8..=0xDA => return None,
            _ => {}
        }
        let len = usize::from(be_u16(b, i)?);
        if len < 2 {
            return None;
        }
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            // length(2) precision(1) height(2) width(2)
            let height = be_u16(b, i + 3)?;
            let width = be_u16(b, i + 5)?;
            return Some((width.into(), height.into()));
        }
        i += len;
    }
}

/// A file that has been received and stored under `key`, not yet attached to anything:
/// what an upload produces, and what a message or a room is then given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpload {
    /// The public id it will have (also part of its key).
    pub uuid: Uuid,
    /// Where its bytes are stored.
    pub key: StorageKey,
    /// What its bytes say it is.
    pub kind: Sniffed,
    /// Its size in bytes.
    pub size: u64,
    /// Width and height in pixels, for images whose size could be read.
    pub dimensions: Option<(u32, u32)>,
}

/// A file attached to a message, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Its integer id (the account dialect's `id`).
    pub id: AttachmentId,
    /// Its public id (the ChatAPI dialect's `id`), also part of its key.
    pub uuid: Uuid,
    /// The account it belongs to, the same as its message's.
    pub account_id: AccountId,
    /// The message it was sent with.
    pub message_id: MessageId,
    /// Where its bytes are stored.
    pub key: StorageKey,
    /// What its bytes say it is.
    pub kind: Sniffed,
    /// Its size in bytes.
    pub size: u64,
    /// Width and height in pixels, for images whose size could be read.
    pub dimensions: Option<(u32, u32)>,
}

/// Where a stored file lives: `/`-separated segments of `[A-Za-z0-9_-]`, the last of
/// which may carry one extension (`name.ext`, both parts non-empty). No empty segment,
/// no `.` or `..`, no leading or trailing `/`, at most 255 characters. A key is safe to
/// use as a relative path on any filesystem and as an object-store key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StorageKey(String);

/// Why a string is not a [`StorageKey`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidStorageKey;

impl fmt::Display for InvalidStorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid storage key")
    }
}

impl std::error::Error for InvalidStorageKey {}

impl StorageKey {
    /// The longest key, in bytes (keys are ASCII, so also in characters).
    pub const MAX_LEN: usize = 255;

    /// Keeps `raw` if it has the shape described on [`StorageKey`], else
    /// [`InvalidStorageKey`]. Use it on every key read from outside (a URL, a
    /// directory listing, a stored row) before it touches storage.
    pub fn parse(raw: &str) -> Result<Self, InvalidStorageKey> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return Err(InvalidStorageKey);
        }
        let mut segments = raw.split('/').peekable();
        while let Some(segment) = segments.next() {
            let ok = if segments.peek().is_some() {
                is_safe_word(segment)
            } else {
                match segment.split_once('.') {
                    Some((stem, ext)) => is_safe_word(stem) && is_safe_word(ext),
                    None => is_safe_word(segment),
                }
            };
            if !ok {
                return Err(InvalidStorageKey);
            }
        }
        Ok(Self(raw.to_owned()))
    }

    /// `accounts/{account}/attachments/{uuid}.{extension}`. Fails with
    /// [`InvalidStorageKey`] when `extension` is empty or not `[A-Za-z0-9_-]` (a
    /// [`Sniffed::extension`] never is).
    pub fn for_attachment(
        account: AccountId,
        uuid: Uuid,
        extension: &str,
    ) -> Result<Self, InvalidStorageKey> {
        Self::parse(&format!(
            "accounts/{}/attachments/{}.{extension}",
            account.0,
            uuid.as_hyphenated()
        ))
    }

    /// `accounts/{account}/avatars/{uuid}.{extension}`. Not under the room: an avatar
    /// that comes with a new room is stored before the room (and its id) exists. Fails
    /// as [`for_attachment`](Self::for_attachment) does.
    pub fn for_avatar(
        account: AccountId,
        uuid: Uuid,
        extension: &str,
    ) -> Result<Self, InvalidStorageKey> {
        Self::parse(&format!(
            "accounts/{}/avatars/{}.{extension}",
            account.0,
            uuid.as_hyphenated()
        ))
    }

    /// The account whose file this is, when the key is one of the shapes above.
    pub fn account(&self) -> Option<AccountId> {
        let mut segments = self.segments();
        match (segments.next(), segments.next()) {
            (Some("accounts"), Some(id)) => id.parse().ok().map(AccountId),
            _ => None,
        }
    }

    /// The key as text, e.g. `accounts/7/attachments/{uuid}.png`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The segments, in order (the last one with its extension).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for StorageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_safe_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod extension_tests {
    use super::*;

    #[test]
    fn every_kind_is_found_again_by_its_extension() {
        for kind in Sniffed::ALL {
            assert_eq!(Sniffed::for_extension(kind.extension), kind);
        }
        assert_eq!(Sniffed::for_extension("exe"), Sniffed::BINARY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Smallest heads that carry what each format needs, with known dimensions.

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
        b.extend_from_slice(&13u32.to_be_bytes());
        b.extend_from_slice(b"IHDR");
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]); // depth, colour, …, CRC
        b
    }

    fn gif(width: u16, height: u16) -> Vec<u8> {
        let mut b = b"GIF89a".to_vec();
        b.extend_from_slice(&width.to_le_bytes());
        b.extend_from_slice(&height.to_le_bytes());
        b.extend_from_slice(&[0, 0, 0, b';']);
        b
    }

    fn riff(form: &[u8], chunk: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(4 + 8 + payload.len() as u32).to_le_bytes());
        b.extend_from_slice(form);
        b.extend_from_slice(chunk);
        b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        b.extend_from_slice(payload);
        b
    }

    fn webp_lossy(width: u16, height: u16) -> Vec<u8> {
        let mut p = vec![0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A];
        p.extend_from_slice(&width.to_le_bytes());
        p.extend_from_slice(&height.to_le_bytes());
        riff(b"WEBP", b"VP8 ", &p)
    }

    fn webp_lossless(width: u32, height: u32) -> Vec<u8> {
        let bits = (width - 1) | (height - 1) << 14;
        let mut p = vec![0x2F];
        p.extend_from_slice(&bits.to_le_bytes());
        riff(b"WEBP", b"VP8L", &p)
    }

    fn webp_extended(width: u32, height: u32) -> Vec<u8> {
        let mut p = vec![0x10, 0, 0, 0];
        p.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
        p.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
        riff(b"WEBP", b"VP8X", &p)
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8];
        // APP0 (JFIF), 16 bytes
        b.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        b.extend_from_slice(b"JFIF\0\x01\x01\x00\x00\x01\x00\x01\x00\x00");
        // DQT with a short table, then fill bytes before the frame header
        b.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]);
        b.extend_from_slice(&[0xFF, 0xFF, 0xFF]);
        // SOF2 (progressive)
        b.extend_from_slice(&[0xC2, 0x00, 0x11, 0x08]);
        b.extend_from_slice(&height.to_be_bytes());
        b.extend_from_slice(&width.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9]);
        b
    }

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut b = 24u32.to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(brand);
        b.extend_from_slice(&[0, 0, 2, 0]);
        b.extend_from_slice(b"isommp41");
        b
    }

    fn ebml(doc_type: &[u8]) -> Vec<u8> {
        let mut b = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F];
        b.extend_from_slice(&[0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01]);
        b.extend_from_slice(&[0x42, 0x82, 0x80 | doc_type.len() as u8]);
        b.extend_from_slice(doc_type);
        b
    }

    /// Every recognised format, with what `sniff` must answer.
    fn fixtures() -> Vec<(&'static str, Vec<u8>, Sniffed)> {
        vec![
            ("jpeg", jpeg(640, 480), Sniffed::JPEG),
            ("png", png(800, 600), Sniffed::PNG),
            ("gif87", b"GIF87a\x01\x00\x01\x00".to_vec(), Sniffed::GIF),
            ("gif89", gif(16, 9), Sniffed::GIF),
            ("webp vp8", webp_lossy(320, 200), Sniffed::WEBP),
            ("webp vp8l", webp_lossless(1, 16384), Sniffed::WEBP),
            ("webp vp8x", webp_extended(5000, 3), Sniffed::WEBP),
            (
                "pdf",
                b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(),
                Sniffed::PDF,
            ),
            ("mp4 isom", ftyp(b"isom"), Sniffed::MP4),
            ("mp4 mp42", ftyp(b"mp42"), Sniffed::MP4),
            ("m4a", ftyp(b"M4A "), Sniffed::M4A),
            ("mov", ftyp(b"qt  "), Sniffed::MOV),
            ("webm", ebml(b"webm"), Sniffed::WEBM),
            ("mkv", ebml(b"matroska"), Sniffed::MKV),
            (
                "mp3 id3",
                b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec(),
                Sniffed::MP3,
            ),
            (
                "mp3 frame",
                vec![0xFF, 0xFB, 0x90, 0x64, 0, 0],
                Sniffed::MP3,
            ),
            (
                "mp3 mpeg2",
                vec![0xFF, 0xF3, 0x48, 0xC4, 0, 0],
                Sniffed::MP3,
            ),
            ("ogg", b"OggS\x00\x02\x00\x00".to_vec(), Sniffed::OGG),
            ("wav", riff(b"WAVE", b"fmt ", &[1, 0, 2, 0]), Sniffed::WAV),
            ("flac", b"fLaC\x00\x00\x00\x22".to_vec(), Sniffed::FLAC),
            ("zip", b"PK\x03\x04\x14\x00\x00\x00".to_vec(), Sniffed::ZIP),
            ("empty zip", b"PK\x05\x06\0\0\0\0".to_vec(), Sniffed::ZIP),
            ("text", "héllo, wörld\n".as_bytes().to_vec(), Sniffed::TEXT),
            ("binary", vec![0x00, 0x01, 0x02, 0xFE], Sniffed::BINARY),
        ]
    }

    #[test]
    fn sniff_recognises_every_fixture() {
        for (name, bytes, expected) in fixtures() {
            assert_eq!(sniff(&bytes), expected, "{name}");
        }
    }

    #[test]
    fn sniff_ignores_what_a_name_would_claim() {
        // A text file that says it is a PNG is text; a PNG with junk after it is a PNG.
        assert_eq!(sniff(b"image.png"), Sniffed::TEXT);
        let mut png = png(1, 1);
        png.extend_from_slice(b"<script>alert(1)</script>");
        assert_eq!(sniff(&png), Sniffed::PNG);
    }

    #[test]
    fn file_types_follow_the_format() {
        assert_eq!(Sniffed::JPEG.file_type, FileType::Image);
        assert_eq!(Sniffed::MP4.file_type, FileType::Video);
        assert_eq!(Sniffed::MOV.file_type, FileType::Video);
        assert_eq!(Sniffed::WEBM.file_type, FileType::Video);
        assert_eq!(Sniffed::M4A.file_type, FileType::Audio);
        assert_eq!(Sniffed::MP3.file_type, FileType::Audio);
        assert_eq!(Sniffed::OGG.file_type, FileType::Audio);
        assert_eq!(Sniffed::WAV.file_type, FileType::Audio);
        assert_eq!(Sniffed::FLAC.file_type, FileType::Audio);
        assert_eq!(Sniffed::PDF.file_type, FileType::File);
        assert_eq!(Sniffed::ZIP.file_type, FileType::File);
        assert_eq!(Sniffed::TEXT.file_type, FileType::File);
        assert_eq!(Sniffed::BINARY.file_type, FileType::File);
    }

    #[test]
    fn file_type_renders_as_the_contract_says() {
        let all = [
            FileType::Image,
            FileType::Video,
            FileType::Audio,
            FileType::File,
        ];
        let names: Vec<_> = all.iter().map(|t| t.as_str()).collect();
        assert_eq!(names, ["image", "video", "audio", "file"]);
        assert_eq!(FileType::Audio.to_string(), "audio");
    }

    #[test]
    fn only_jpeg_png_gif_and_webp_are_avatars() {
        for (name, bytes, _) in fixtures() {
            let avatar = sniff(&bytes).is_avatar_image();
            let expected = name.starts_with("jpeg")
                || name.starts_with("png")
                || name.starts_with("gif")
                || name.starts_with("webp");
            assert_eq!(avatar, expected, "{name}");
        }
    }

    #[test]
    fn text_is_utf8_without_nul() {
        assert_eq!(sniff(b""), Sniffed::TEXT);
        assert_eq!(sniff(b"plain ascii"), Sniffed::TEXT);
        assert_eq!(sniff(b"nul\0inside"), Sniffed::BINARY);
        assert_eq!(sniff(b"bad \xC3\x28 utf8"), Sniffed::BINARY);
        assert_eq!(sniff(b"\xFF\xFE"), Sniffed::BINARY);
        // A head that ends in the middle of a character is still text.
        let cut = &"naïve é".as_bytes()[..8];
        assert!(std::str::from_utf8(cut).is_err());
        assert_eq!(sniff(cut), Sniffed::TEXT);
    }

    #[test]
    fn near_misses_are_not_recognised() {
        // RIFF of another form, ftyp of an image brand, frame sync of AAC (layer 0),
        // a lone JPEG SOI, "GIF" without a version.
        assert_eq!(sniff(&riff(b"AVI ", b"LIST", &[0; 4])), Sniffed::BINARY);
        assert_eq!(sniff(&ftyp(b"heic")), Sniffed::BINARY);
        assert_eq!(sniff(&ftyp(b"avif")), Sniffed::BINARY);
        assert_eq!(sniff(&[0xFF, 0xF1, 0x50, 0x80]), Sniffed::BINARY);
        assert_eq!(sniff(&[0xFF, 0xFB, 0xF0, 0x00]), Sniffed::BINARY); // bad bitrate
        assert_eq!(sniff(&[0xFF, 0xD8]), Sniffed::BINARY);
        assert_eq!(sniff(b"GIF"), Sniffed::TEXT);
        assert_eq!(sniff(b"PK"), Sniffed::TEXT);
    }

    #[test]
    fn image_sizes_are_read_from_each_format() {
        assert_eq!(image_size(&png(800, 600)), Some((800, 600)));
        assert_eq!(image_size(&gif(16, 9)), Some((16, 9)));
        assert_eq!(image_size(&gif(65535, 1)), Some((65535, 1)));
        assert_eq!(image_size(&webp_lossy(320, 200)), Some((320, 200)));
        assert_eq!(image_size(&webp_lossless(1, 16384)), Some((1, 16384)));
        assert_eq!(image_size(&webp_lossless(16384, 7)), Some((16384, 7)));
        assert_eq!(image_size(&webp_extended(5000, 3)), Some((5000, 3)));
        assert_eq!(
            image_size(&webp_extended(16_777_216, 1)),
            Some((16_777_216, 1))
        );
        assert_eq!(image_size(&jpeg(640, 480)), Some((640, 480)));
        assert_eq!(image_size(&jpeg(1, 65535)), Some((1, 65535)));
    }

    #[test]
    fn jpeg_size_comes_from_sof_not_from_other_segments() {
        // A DHT (0xC4) segment looks like an SOF by number but is not one.
        let mut b = vec![
            0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x07, 0x00, 0x09, 0x09, 0x09, 0x09,
        ];
        b.extend_from_slice(&jpeg(33, 44)[2..]);
        assert_eq!(image_size(&b), Some((33, 44)));
        // Baseline SOF0 too.
        let mut sof0 = jpeg(12, 34);
        let at = sof0.iter().position(|&x| x == 0xC2);
        if let Some(at) = at {
            sof0[at] = 0xC0;
        }
        assert_eq!(image_size(&sof0), Some((12, 34)));
    }

    #[test]
    fn images_without_a_readable_size_answer_none() {
        assert_eq!(image_size(&png(0, 10)), None);
        assert_eq!(image_size(&gif(10, 0)), None);
        // Scan before frame, a zero segment length, a non-marker byte.
        assert_eq!(image_size(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]), None);
        assert_eq!(
            image_size(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF]),
            None
        );
        assert_eq!(
            image_size(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF]),
            None
        );
        assert_eq!(image_size(&[0xFF, 0xD8, 0x00, 0x00]), None);
        // A PNG whose first chunk is not IHDR; a WebP with an unknown chunk.
        let mut png = png(5, 5);
        png[12..16].copy_from_slice(b"IDAT");
        assert_eq!(image_size(&png), None);
        assert_eq!(image_size(&riff(b"WEBP", b"ALPH", &[0; 16])), None);
        // Not images at all.
        assert_eq!(image_size(b"%PDF-1.4"), None);
        assert_eq!(image_size(&ftyp(b"isom")), None);
        assert_eq!(image_size(b""), None);
    }

    #[test]
    fn truncated_heads_never_panic() {
        for (name, bytes, _) in fixtures() {
            for len in 0..=bytes.len() {
                let head = &bytes[..len];
                let _ = sniff(head);
                if let Some((w, h)) = image_size(head) {
                    assert!(w > 0 && h > 0, "{name}[..{len}]");
                }
            }
        }
    }

    #[test]
    fn truncated_heads_lose_the_size_not_the_type() {
        let full = jpeg(640, 480);
        let sof = full.iter().position(|&x| x == 0xC2).unwrap_or(0);
        assert_eq!(image_size(&full[..sof + 6]), None);
        assert_eq!(sniff(&full[..sof + 6]), Sniffed::JPEG);
        assert_eq!(image_size(&png(3, 4)[..20]), None);
    }

    #[test]
    fn hostile_jpegs_terminate() {
        // Endless fill bytes, endless restart markers, segments pointing past the end,
        // and every 3-byte tail after SOI.
        let mut fill = vec![0xFF, 0xD8];
        fill.extend(std::iter::repeat_n(0xFF, 10_000));
        assert_eq!(image_size(&fill), None);
        let mut restarts = vec![0xFF, 0xD8];
        for _ in 0..5_000 {
            restarts.extend_from_slice(&[0xFF, 0xD0]);
        }
        assert_eq!(image_size(&restarts), None);
        assert_eq!(
            image_size(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF, 0, 0]),
            None
        );
        for a in [0x00, 0xC0, 0xC4, 0xD0, 0xDA, 0xE0, 0xFF] {
            for b in [0x00, 0x01, 0x02, 0xFF] {
                for c in [0x00, 0x02, 0xFF] {
                    let _ = image_size(&[0xFF, 0xD8, 0xFF, a, b, c, 0xFF, a, b]);
                }
            }
        }
    }

    #[test]
    fn pseudo_random_input_never_panics() {
        // A fixed xorshift stream, spliced onto every format's magic.
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        };
        for (_, bytes, _) in fixtures() {
            for keep in [0, 2, 4, 8, 12, 16, 20] {
                for _ in 0..50 {
                    let mut head = bytes[..keep.min(bytes.len())].to_vec();
                    let extra = usize::from(next()) % 64;
                    head.extend((0..extra).map(|_| next()));
                    let _ = sniff(&head);
                    let _ = image_size(&head);
                }
            }
        }
    }

    #[test]
    fn storage_keys_for_attachments_and_avatars() {
        let uuid = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        let key = StorageKey::for_attachment(AccountId(7), uuid, "png");
        assert_eq!(
            key.as_ref().map(StorageKey::as_str),
            Ok("accounts/7/attachments/01234567-89ab-cdef-0123-456789abcdef.png")
        );
        let avatar = StorageKey::for_avatar(AccountId(7), uuid, "webp");
        assert_eq!(
            avatar.as_ref().map(StorageKey::as_str),
            Ok("accounts/7/avatars/01234567-89ab-cdef-0123-456789abcdef.webp")
        );
        assert_eq!(avatar.as_ref().map(|k| k.segments().count()), Ok(4));
        assert_eq!(avatar.ok().and_then(|k| k.account()), Some(AccountId(7)));
        assert_eq!(
            StorageKey::parse("elsewhere/7/x.png")
                .ok()
                .and_then(|k| k.account()),
            None
        );
        assert_eq!(
            StorageKey::parse("accounts/x/a.png")
                .ok()
                .and_then(|k| k.account()),
            None
        );
    }

    #[test]
    fn every_sniffed_extension_makes_a_key() {
        for (name, bytes, _) in fixtures() {
            let ext = sniff(&bytes).extension;
            assert!(
                StorageKey::for_attachment(AccountId(1), Uuid::nil(), ext).is_ok(),
                "{name}: {ext}"
            );
        }
    }

    #[test]
    fn storage_keys_refuse_traversal_and_unsafe_characters() {
        let uuid = Uuid::nil();
        for ext in ["", "../x", "p/ng", "png.gz", ".", "p ng", "pñg"] {
            assert_eq!(
                StorageKey::for_attachment(AccountId(1), uuid, ext),
                Err(InvalidStorageKey),
                "{ext:?}"
            );
        }
        for raw in [
            "",
            "/",
            "/etc/passwd",
            "../secret",
            "a/../../b",
            "a/..",
            "a/./b",
            ".",
            "..",
            ".partial/x",
            "a//b",
            "a/",
            "a\\b",
            "..\\..\\b",
            "a/b\0c",
            "a/b%2e%2e",
            "C:/x",
            "a.b/c",
            "a/.hidden",
            "a/b.",
            "a/b..c",
            "a/b.c.d",
            "a b",
            "ä",
        ] {
            assert_eq!(StorageKey::parse(raw), Err(InvalidStorageKey), "{raw:?}");
        }
    }

    #[test]
    fn storage_keys_accept_safe_paths_up_to_255_chars() {
        for raw in ["a", "a-b_C9", "x/y/z", "x/y/z.ext", "-/_", "file.bin"] {
            assert_eq!(
                StorageKey::parse(raw).map(|k| k.to_string()),
                Ok(raw.to_owned())
            );
        }
        let longest = format!("{}/{}", "a".repeat(127), "b".repeat(127));
        assert_eq!(longest.len(), 255);
        assert!(StorageKey::parse(&longest).is_ok());
        let too_long = format!("{longest}c");
        assert_eq!(StorageKey::parse(&too_long), Err(InvalidStorageKey));
    }
}
