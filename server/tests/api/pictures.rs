//! Real picture files for the avatar tests, made by the image crate, and the hostile files an
//! upload must refuse.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

/// A `width` × `height` picture in `format`: a gradient, so it compresses like a photo.
pub fn picture(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
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

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG chunk: length, type, data, CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let body = [kind.as_slice(), data].concat();
    [
        (data.len() as u32).to_be_bytes().as_slice(),
        &body,
        &crc32(&body).to_be_bytes(),
    ]
    .concat()
}

/// A valid PNG of exactly `size` bytes: a small picture with a private ancillary chunk
/// (`prVt`, which decoders skip) making up the rest.
pub fn png_of_exactly(size: usize) -> Vec<u8> {
    let base = picture(ImageFormat::Png, 32, 32);
    let iend = base.len() - 12;
    let filler = size - base.len() - 12;
    let padded = [
        &base[..iend],
        &chunk(b"prVt", &vec![0x11; filler]),
        &base[iend..],
    ]
    .concat();
    assert_eq!(padded.len(), size);
    padded
}

/// A PNG that declares `width` × `height`, with almost no data behind it (a decompression bomb's
/// header).
pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let ihdr = [
        width.to_be_bytes().as_slice(),
        &height.to_be_bytes(),
        &[8, 2, 0, 0, 0],
    ]
    .concat();
    [
        b"\x89PNG\r\n\x1a\n".as_slice(),
        &chunk(b"IHDR", &ihdr),
        &chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]),
        &chunk(b"IEND", &[]),
    ]
    .concat()
}

/// `jpeg` with an EXIF segment naming GPS coordinates, right after its start marker.
pub fn with_exif_gps(jpeg: &[u8]) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    exif.extend_from_slice(GPS);
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    app1.extend_from_slice(&exif);
    [&jpeg[..2], &app1, &jpeg[2..]].concat()
}

/// What [`with_exif_gps`] writes into the file.
pub const GPS: &[u8] = b"GPSLatitude=6.2088S;GPSLongitude=106.8456E";

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
