//! Turning an uploaded file into a picture safe to store and show: its type from its bytes (never
//! from its name or declared type), refused when it is not a picture, carries markup, is damaged
//! or has absurd dimensions; otherwise decoded and encoded anew at avatar size, which keeps the
//! pixels and drops everything else (EXIF, GPS, XMP, comments, trailing data). CPU-bound: call it
//! off the async runtime (`tokio::task::spawn_blocking`).

use std::io::Cursor;

use app::avatar::{AvatarError, MAX_BYTES};
use image::{
    DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, codecs::jpeg::JpegEncoder,
    codecs::webp::WebPEncoder, imageops::FilterType,
};

/// The longest side of a stored avatar: sharp in a 256 px circle on a 2× screen.
pub const STORED_SIDE: u32 = 512;
/// The most pixels a file may declare (a 48-megapixel phone photo is refused; a 40 is not).
const MAX_PIXELS: u64 = 40_000_000;
const MAX_SIDE: u32 = 12_000;
/// The most memory one decode may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;
const JPEG_QUALITY: u8 = 85;

/// Markup a browser could run, were the file ever served as a page: a picture carrying any of
/// these (a GIF/HTML polyglot) is refused, not cleaned, so nobody mistakes it for an accident.
const MARKUP: [&[u8]; 6] = [
    b"<script",
    b"<html",
    b"<body",
    b"<iframe",
    b"<svg",
    b"<!doctype",
];

/// A picture ready to store.
pub struct CleanPicture {
    pub bytes: Vec<u8>,
    /// `image/jpeg`, `image/png`, `image/webp` or `image/gif`: the type it came in.
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Debug for CleanPicture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleanPicture")
            .field("bytes", &self.bytes.len())
            .field("content_type", &self.content_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .finish()
    }
}

/// Checks `file` and encodes it anew (see the module docs).
pub fn clean(file: &[u8]) -> Result<CleanPicture, AvatarError> {
    if file.len() as u64 > MAX_BYTES {
        return Err(AvatarError::TooLarge);
    }
    if file.is_empty() {
        return Err(AvatarError::Missing);
    }
    let format = match image::guess_format(file) {
        Ok(
            format @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP),
        ) => format,
        _ => return Err(AvatarError::NotAPicture),
    };
    if carries_markup(file) {
        return Err(AvatarError::HiddenContent);
    }
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(file), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        reader.limits(limits);
        reader
    };
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|error| refusal_of(&error))?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(AvatarError::TooManyPixels);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_whole(file) {
        return Err(AvatarError::Damaged);
    }
    let mut decoder = reader()
        .into_decoder()
        .map_err(|error| refusal_of(&error))?;
    // The way up the camera recorded lives in the metadata about to be dropped: apply it first.
    let orientation = decoder.orientation().map_err(|error| refusal_of(&error))?;
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|error| refusal_of(&error))?;
    picture.apply_orientation(orientation);
    encode(shrink(picture), format)
}

fn carries_markup(file: &[u8]) -> bool {
    file.iter().enumerate().any(|(at, byte)| {
        *byte == b'<'
            && MARKUP.iter().any(|marker| {
                file.get(at..at + marker.len())
                    .is_some_and(|here| here.eq_ignore_ascii_case(marker))
            })
    })
}

/// Whether a JPEG decodes to its end without a shortcut (strict mode fails where the lenient
/// decoder would paint the missing part grey).
fn jpeg_is_whole(file: &[u8]) -> bool {
    let options = zune_core::options::DecoderOptions::default().set_strict_mode(true);
    zune_jpeg::JpegDecoder::new_with_options(zune_core::bytestream::ZCursor::new(file), options)
        .decode()
        .is_ok()
}

fn refusal_of(error: &image::ImageError) -> AvatarError {
    match error {
        image::ImageError::Limits(_) => AvatarError::TooManyPixels,
        _ => AvatarError::Damaged,
    }
}

/// At most [`STORED_SIDE`] on its longer side, the proportions kept.
fn shrink(picture: DynamicImage) -> DynamicImage {
    if picture.width() <= STORED_SIDE && picture.height() <= STORED_SIDE {
        picture
    } else {
        picture.resize(STORED_SIDE, STORED_SIDE, FilterType::CatmullRom)
    }
}

fn encode(picture: DynamicImage, format: ImageFormat) -> Result<CleanPicture, AvatarError> {
    let mut out = Cursor::new(Vec::new());
    let written = match format {
        // JPEG has no alpha; a lossy original stays lossy at a good quality.
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(picture.to_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)),
        // The WebP encoder writes lossless WebP, from 8-bit RGBA.
        ImageFormat::WebP => DynamicImage::ImageRgba8(picture.to_rgba8())
            .write_with_encoder(WebPEncoder::new_lossless(&mut out)),
        // PNG as it came; a GIF keeps its first frame.
        _ => picture.write_to(&mut out, format),
    };
    written.map_err(|error| {
        tracing::error!(%error, ?format, "could not encode a decoded avatar");
        AvatarError::Unavailable
    })?;
    Ok(CleanPicture {
        bytes: out.into_inner(),
        content_type: format.to_mime_type(),
        width: picture.width(),
        height: picture.height(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A real picture in `format`: a gradient, so it compresses like a photo does, not to nothing.
    fn picture(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let pixels = RgbImage::from_fn(width, height, |x, y| {
            Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        });
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgb8(pixels)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    /// `jpeg` with an EXIF segment carrying GPS coordinates and a comment segment after SOI.
    fn with_exif_gps(jpeg: &[u8]) -> Vec<u8> {
        let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
        exif.extend_from_slice(b"GPSLatitude=6.2088S;GPSLongitude=106.8456E");
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        app1.extend_from_slice(&exif);
        let comment = b"secret camera comment";
        let mut com = vec![0xFF, 0xFE];
        com.extend_from_slice(&((comment.len() + 2) as u16).to_be_bytes());
        com.extend_from_slice(comment);
        [&jpeg[..2], &app1, &com, &jpeg[2..]].concat()
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn each_of_the_four_types_is_kept_in_its_type_and_shrunk_to_avatar_size() {
        for (format, mime) in [
            (ImageFormat::Jpeg, "image/jpeg"),
            (ImageFormat::Png, "image/png"),
            (ImageFormat::WebP, "image/webp"),
            (ImageFormat::Gif, "image/gif"),
        ] {
            let clean = clean(&picture(format, 900, 600)).unwrap();
            assert_eq!(clean.content_type, mime);
            assert_eq!((clean.width, clean.height), (512, 341), "{mime}");
            assert_eq!(image::guess_format(&clean.bytes).unwrap(), format);
            let small = clean_ok(&picture(format, 40, 30));
            assert_eq!(
                (small.width, small.height),
                (40, 30),
                "small ones stay as they are"
            );
        }
    }

    fn clean_ok(file: &[u8]) -> CleanPicture {
        clean(file).unwrap()
    }

    #[test]
    fn metadata_does_not_survive() {
        let original = with_exif_gps(&picture(ImageFormat::Jpeg, 64, 64));
        assert!(contains(&original, b"GPSLatitude"));
        let clean = clean(&original).unwrap();
        assert!(!contains(&clean.bytes, b"Exif"));
        assert!(!contains(&clean.bytes, b"GPSLatitude"));
        assert!(!contains(&clean.bytes, b"secret camera comment"));
    }

    #[test]
    fn the_camera_orientation_is_applied_before_the_metadata_goes() {
        // EXIF with one IFD entry: Orientation (0x0112) = 6, "rotate 90° clockwise to view".
        let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
        exif.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        app1.extend_from_slice(&exif);
        let jpeg = picture(ImageFormat::Jpeg, 40, 20);
        let sideways = [&jpeg[..2], &app1, &jpeg[2..]].concat();
        let clean = clean(&sideways).unwrap();
        assert_eq!((clean.width, clean.height), (20, 40));
        assert!(!contains(&clean.bytes, b"Exif"));
    }

    #[test]
    fn what_is_not_a_picture_is_refused_by_its_bytes() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let html = b"<!DOCTYPE html><html><body>hi</body></html>";
        let elf = [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0u8; 200]].concat();
        for file in [svg.as_slice(), html, &elf, b"plain text"] {
            assert_eq!(clean(file).unwrap_err(), AvatarError::NotAPicture);
        }
        assert_eq!(clean(b"").unwrap_err(), AvatarError::Missing);
    }

    #[test]
    fn a_picture_carrying_markup_is_refused() {
        // A valid GIF with a page after its trailer, and the classic header-then-script polyglot.
        let gif = picture(ImageFormat::Gif, 16, 16);
        let appended = [gif.as_slice(), b"<html><SCRIPT>alert(1)</script>"].concat();
        assert_eq!(clean(&appended).unwrap_err(), AvatarError::HiddenContent);
        let classic = b"GIF89a/*<svg onload=alert(1)>*/=1;";
        assert_eq!(clean(classic).unwrap_err(), AvatarError::HiddenContent);
        assert!(clean(&gif).is_ok());
    }

    #[test]
    fn damaged_pictures_are_refused() {
        let png_header_on_garbage = [b"\x89PNG\r\n\x1a\n".as_slice(), &[0x5a; 300]].concat();
        assert_eq!(
            clean(&png_header_on_garbage).unwrap_err(),
            AvatarError::Damaged
        );
        let jpeg = picture(ImageFormat::Jpeg, 300, 300);
        let truncated = &jpeg[..jpeg.len() / 2];
        assert_eq!(clean(truncated).unwrap_err(), AvatarError::Damaged);
        let png = picture(ImageFormat::Png, 300, 300);
        assert_eq!(
            clean(&png[..png.len() / 2]).unwrap_err(),
            AvatarError::Damaged
        );
    }

    // Decompression bombs (a PNG declaring 30000 × 30000) are refused through HTTP, in
    // `tests/api/avatars.rs`, which has the PNG-chunk writer.

    #[test]
    fn over_two_mebibytes_is_refused_before_anything_is_read() {
        let mut big = picture(ImageFormat::Png, 8, 8);
        big.resize(MAX_BYTES as usize + 1, 0);
        assert_eq!(clean(&big).unwrap_err(), AvatarError::TooLarge);
    }
}
