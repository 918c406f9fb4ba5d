//! Native compositing of an overlay onto a JPEG, PNG or WebP picture
//! (metadata.md §11.2) with fixed encoder settings, so a composite is
//! reproducible for a given memoria build (§10).
//!
//! The picture is decoded upright (EXIF orientation applied), the overlay
//! scaled to it and blended over, and the result encoded in the base's
//! format with its EXIF block (edited by `exif_patch`) and ICC profile.
//! JPEGs are encoded with jpeg-encoder, PNG and WebP with the image crate.

use std::io::Cursor;
use std::path::Path;

use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::metadata::Orientation;
use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageFormat,
    ImageReader, RgbImage, RgbaImage,
};

use super::{exif_patch, layer};

/// JPEG quality of composites (metadata.md §11.2 step 4).
const JPEG_QUALITY: u8 = 95;
/// Chroma subsampling of JPEG composites: 4:2:0, as cameras and phones
/// write. At 4:4:4 a 1080×1920 composite takes about 60 ms instead of 50
/// (issue #6 targets ≤ 60 ms; `benches/overlay.rs`).
const JPEG_SAMPLING: jpeg_encoder::SamplingFactor =
    jpeg_encoder::SamplingFactor::F_2_2;
/// Largest TIFF block a JPEG APP1 segment holds (65535 minus the length
/// field and the `Exif\0\0` signature).
const MAX_JPEG_EXIF: usize = 65535 - 2 - 6;

/// Composites `overlay` (a PNG with alpha) over the picture `base` (JPEG,
/// PNG or WebP, chosen by content) and writes the result, in the base's
/// format, to `out` (metadata.md §11.2).
///
/// The base's EXIF block is carried over with `Orientation` 1 and without
/// its thumbnail; a block that cannot be read is dropped. Errors are one
/// line naming what failed; `out` is removed when writing it fails.
pub(crate) fn composite_image(
    base: &Path,
    overlay: &Path,
    out: &Path,
) -> Result<(), String> {
    let bytes = std::fs::read(base)
        .map_err(|e| format!("failed to read {}: {e}", base.display()))?;
    let picture = Picture::decode(&bytes)
        .map_err(|e| format!("failed to decode {}: {e}", base.display()))?;
    let layer = layer::load(overlay)?;
    let encoded = picture
        .composite(layer)
        .map_err(|e| format!("failed to encode {}: {e}", out.display()))?;
    std::fs::write(out, encoded).map_err(|e| {
        let _ = std::fs::remove_file(out);
        format!("failed to write {}: {e}", out.display())
    })
}

/// The formats a composite is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    Webp,
}

/// A decoded, upright base picture with the metadata to carry over.
struct Picture {
    format: Format,
    pixels: DynamicImage,
    carried: Carried,
}

/// What a composite carries over from its base.
struct Carried {
    /// The edited EXIF block (TIFF bytes).
    exif: Option<Vec<u8>>,
    /// The ICC profile, so colours keep their meaning.
    icc: Option<Vec<u8>>,
}

impl Picture {
    /// Decodes `bytes`, applies the EXIF orientation and edits the EXIF
    /// block for the upright picture.
    fn decode(bytes: &[u8]) -> Result<Picture, String> {
        let reader = ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())?;
        let format = match reader.format() {
            Some(ImageFormat::Jpeg) => Format::Jpeg,
            Some(ImageFormat::Png) => Format::Png,
            Some(ImageFormat::WebP) => Format::Webp,
            Some(other) => return Err(format!("unsupported format {other:?}")),
            None => return Err("unknown image format".to_string()),
        };
        let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
        let (width, height) = decoder.dimensions();
        layer::check_size(width, height)?;
        // Broken metadata must not cost the picture: it is dropped.
        let exif = decoder.exif_metadata().ok().flatten();
        let icc = decoder.icc_profile().ok().flatten();
        let mut pixels =
            DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
        let exif = exif.and_then(|block| upright(&mut pixels, &block));
        Ok(Picture { format, pixels, carried: Carried { exif, icc } })
    }

    /// Blends `layer` (scaled to fit) over the picture and encodes it.
    fn composite(self, layer: RgbaImage) -> Result<Vec<u8>, String> {
        let (width, height) = (self.pixels.width(), self.pixels.height());
        let layer = layer::fit(layer, width, height);
        let carried = self.carried;
        match self.format {
            // A JPEG base is opaque, so blending over it already gives the
            // picture flattened onto opaque white of §11.2 step 4.
            Format::Jpeg => {
                let mut rgb = self.pixels.into_rgb8();
                blend_opaque(&mut rgb, &layer);
                encode_jpeg(&rgb, carried)
            }
            Format::Png | Format::Webp => {
                let mut rgba = self.pixels.into_rgba8();
                blend_over(&mut rgba, &layer);
                let mut out = Vec::new();
                let color = ExtendedColorType::Rgba8;
                if self.format == Format::Png {
                    let encoder = PngEncoder::new(&mut out);
                    encode(encoder, &rgba, color, carried)?;
                } else {
                    let encoder = WebPEncoder::new_lossless(&mut out);
                    encode(encoder, &rgba, color, carried)?;
                }
                Ok(out)
            }
        }
    }
}

/// Applies the orientation `block` records to `pixels` and returns the
/// block edited for the upright picture; None (block dropped, logged)
/// when it cannot be read.
fn upright(pixels: &mut DynamicImage, block: &[u8]) -> Option<Vec<u8>> {
    // Some writers keep the APP1 signature in front of the TIFF data.
    let block = block.strip_prefix(b"Exif\0\0").unwrap_or(block);
    let orientation = match orientation(block) {
        Ok(value) => value,
        Err(e) => {
            log::debug!("exif block of overlay base dropped: {e}");
            return None;
        }
    };
    if let Some(o) =
        u8::try_from(orientation).ok().and_then(Orientation::from_exif)
    {
        pixels.apply_orientation(o);
    }
    exif_patch::patch(block, pixels.width(), pixels.height())
        .inspect_err(|e| log::debug!("exif block of overlay base dropped: {e}"))
        .ok()
}

/// Returns the `Orientation` of IFD0 as kamadak-exif reads it (1 when
/// absent).
fn orientation(block: &[u8]) -> Result<u32, String> {
    let exif = ::exif::Reader::new()
        .read_raw(block.to_vec())
        .map_err(|e| e.to_string())?;
    let field = exif.get_field(::exif::Tag::Orientation, ::exif::In::PRIMARY);
    Ok(field.and_then(|f| f.value.get_uint(0)).unwrap_or(1))
}

/// Blends `layer` over the opaque `base` of the same size.
fn blend_opaque(base: &mut RgbImage, layer: &RgbaImage) {
    let pairs = base.chunks_exact_mut(3).zip(layer.chunks_exact(4));
    for (b, o) in pairs {
        let alpha = u32::from(o[3]);
        if alpha == 0 {
            continue;
        }
        let rest = 255 - alpha;
        for (dst, &src) in b.iter_mut().zip(o) {
            let mixed = u32::from(src) * alpha + u32::from(*dst) * rest;
            *dst = ((mixed + 127) / 255) as u8;
        }
    }
}

/// Blends `layer` over `base` (Porter-Duff "over", straight alpha).
fn blend_over(base: &mut RgbaImage, layer: &RgbaImage) {
    let pairs = base.chunks_exact_mut(4).zip(layer.chunks_exact(4));
    for (b, o) in pairs {
        let top = u32::from(o[3]);
        if top == 0 {
            continue;
        }
        // Weights in units of 1/255²: the overlay's, then what shows of
        // the base beneath it.
        let w_top = top * 255;
        let w_base = u32::from(b[3]) * (255 - top);
        let total = w_top + w_base;
        for (dst, &src) in b.iter_mut().zip(o).take(3) {
            let mixed = u32::from(src) * w_top + u32::from(*dst) * w_base;
            *dst = ((mixed + total / 2) / total) as u8;
        }
        b[3] = ((total + 127) / 255) as u8;
    }
}

/// Encodes an RGB picture as a baseline JPEG at [`JPEG_QUALITY`] with
/// the EXIF block (APP1) and ICC profile (APP2) of `carried`.
///
/// jpeg-encoder rather than the image crate's encoder: about 25 ms
/// instead of 55 for 1080×1920. Its `simd` feature stays off: the AVX2
/// path writes other bytes than the scalar one, and a composite must be
/// the same on every CPU for a given build (metadata.md §10).
fn encode_jpeg(rgb: &RgbImage, carried: Carried) -> Result<Vec<u8>, String> {
    let (width, height) = rgb.dimensions();
    let too_large = || format!("{width}x{height} too large for jpeg");
    let width = u16::try_from(width).map_err(|_| too_large())?;
    let height = u16::try_from(height).map_err(|_| too_large())?;
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    encoder.set_sampling_factor(JPEG_SAMPLING);
    // A block from a JPEG base always fits; the check keeps a bad one
    // from failing the composite.
    if let Some(exif) = carried.exif.filter(|b| b.len() <= MAX_JPEG_EXIF) {
        let segment = [b"Exif\0\0".as_slice(), &exif].concat();
        encoder.add_app_segment(1, &segment).map_err(|e| e.to_string())?;
    }
    if let Some(icc) = carried.icc {
        encoder.add_icc_profile(&icc).map_err(|e| e.to_string())?;
    }
    let color = jpeg_encoder::ColorType::Rgb;
    encoder.encode(rgb, width, height, color).map_err(|e| e.to_string())?;
    Ok(out)
}

/// Encodes `pixels` with `encoder`, attaching the EXIF block and ICC
/// profile of `carried`.
fn encode<E: ImageEncoder, P: image::Pixel<Subpixel = u8>>(
    mut encoder: E,
    pixels: &image::ImageBuffer<P, Vec<u8>>,
    color: ExtendedColorType,
    carried: Carried,
) -> Result<(), String> {
    if let Some(icc) = carried.icc {
        encoder.set_icc_profile(icc).map_err(|e| e.to_string())?;
    }
    if let Some(exif) = carried.exif {
        encoder.set_exif_metadata(exif).map_err(|e| e.to_string())?;
    }
    let (width, height) = pixels.dimensions();
    encoder.write_image(pixels, width, height, color).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;
    use std::path::{Path, PathBuf};

    use ::exif::{In, Tag};
    use image::codecs::jpeg::JpegEncoder;
    use image::imageops;

    use super::*;
    use crate::media::exif::testutil::{full_meta, XorShift};
    use crate::media::model::DescriptionPolicy::Overwrite;
    use crate::media::overlay::testutil::{self as t, near, BLUE, GREEN, RED};

    /// A temporary folder with the paths of one composite.
    struct Case {
        _dir: tempfile::TempDir,
        base: PathBuf,
        overlay: PathBuf,
        out: PathBuf,
    }

    fn case(base_name: &str) -> Case {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        let (base, overlay, out) =
            (path(base_name), path("overlay.png"), path("out"));
        Case { base, overlay, out, _dir: dir }
    }

    /// Encodes `image` as a JPEG at quality 98 (image crate's encoder, so
    /// the fixture does not depend on the code under test).
    fn jpeg(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        let encoder = JpegEncoder::new_with_quality(&mut out, 98);
        image.write_with_encoder(encoder).unwrap();
        out
    }

    /// Writes a 64×48 JPEG (green left half, blue right half) tagged by
    /// exiftool with Orientation 6, camera tags and a thumbnail.
    fn tagged_jpeg(path: &Path) {
        std::fs::write(path, jpeg(&t::halves(64, 48))).unwrap();
        let thumb = path.with_extension("thumb.jpg");
        std::fs::write(&thumb, jpeg(&t::halves(16, 12))).unwrap();
        let thumb_arg = format!("-ThumbnailImage<={}", t::s(&thumb));
        t::tool(
            "exiftool",
            &[
                "-q",
                "-overwrite_original",
                "-Orientation#=6",
                "-Make=TestCam",
                "-DateTimeOriginal=2021:01:04 18:08:30",
                &thumb_arg,
                t::s(path),
            ],
        );
    }

    fn kamadak_file(path: &Path) -> ::exif::Exif {
        let bytes = std::fs::read(path).unwrap();
        ::exif::Reader::new()
            .read_from_container(&mut Cursor::new(bytes))
            .expect("exif in output")
    }

    fn uint(exif: &::exif::Exif, tag: Tag) -> Option<u32> {
        exif.get_field(tag, In::PRIMARY)?.value.get_uint(0)
    }

    #[test]
    fn jpeg_is_composited_upright_with_exif_kept() {
        let c = case("base.jpg");
        tagged_jpeg(&c.base);
        let before = kamadak_file(&c.base);
        assert_eq!(uint(&before, Tag::Orientation), Some(6));
        assert!(before.fields().any(|f| f.ifd_num == In::THUMBNAIL));
        t::save_png(&t::overlay(48, 64, 16), &c.overlay);
        composite_image(&c.base, &c.overlay, &c.out).unwrap();

        // Orientation 6 turns the picture 90° clockwise: the green left
        // half of the stored picture is the top half of the upright one.
        let out = t::decode(&c.out).into_rgb8();
        assert_eq!(out.dimensions(), (48, 64));
        let upright = imageops::rotate90(&t::decode(&c.base).into_rgb8());
        for (x, y, want) in [(4, 4, RED), (12, 12, RED), (24, 8, GREEN)] {
            let got = out.get_pixel(x, y).0;
            assert!(near(&got, &want, 24), "({x},{y}) = {got:?}");
        }
        assert!(near(&out.get_pixel(24, 56).0, &BLUE, 24));
        for (x, y) in [(40, 8), (24, 28), (8, 40), (40, 56)] {
            let (got, base) =
                (out.get_pixel(x, y).0, upright.get_pixel(x, y).0);
            assert!(near(&got, &base, 12), "({x},{y}) {got:?} vs {base:?}");
        }

        let exif = kamadak_file(&c.out);
        assert_eq!(uint(&exif, Tag::Orientation), Some(1));
        let make = exif.get_field(Tag::Make, In::PRIMARY).unwrap();
        assert_eq!(make.display_value().to_string(), "\"TestCam\"");
        assert!(exif.get_field(Tag::DateTimeOriginal, In::PRIMARY).is_some());
        assert!(exif.fields().all(|f| f.ifd_num != In::THUMBNAIL));
        let tool = t::exiftool(&c.out);
        assert_eq!(tool["IFD0:Orientation"], 1);
        assert_eq!(tool["ExifIFD:DateTimeOriginal"], "2021:01:04 18:08:30");
        let keys = tool.as_object().unwrap().keys();
        assert!(!keys.into_iter().any(|k| k.starts_with("IFD1:")), "{tool}");

        // exiftool puts the thumbnail last, so its bytes are cut off.
        let block = |path: &Path| {
            let bytes = std::fs::read(path).unwrap();
            let mut reader = Cursor::new(bytes);
            crate::media::jpeg::exif_block(&mut reader).unwrap().unwrap()
        };
        let thumb_len = jpeg(&t::halves(16, 12)).len();
        assert!(block(&c.out).len() + thumb_len <= block(&c.base).len());

        // The metadata step that follows accepts the composite.
        let bytes = std::fs::read(&c.out).unwrap();
        crate::media::jpeg::validate(&mut Cursor::new(&bytes)).unwrap();
        let mut embedded = Vec::new();
        let meta = full_meta(Overwrite);
        crate::media::jpeg::embed(
            &mut Cursor::new(&bytes),
            &mut embedded,
            &meta,
        )
        .unwrap();
    }

    /// Returns a 64×48 RGBA picture: opaque green left half, blue right
    /// half at alpha 128.
    fn translucent_halves() -> RgbaImage {
        RgbaImage::from_fn(64, 48, |x, _| {
            image::Rgba(if x < 32 {
                [0, 160, 0, 255]
            } else {
                [0, 0, 255, 128]
            })
        })
    }

    /// Checks a lossless composite of [`translucent_halves`] turned by
    /// Orientation 6 under `t::overlay(48, 64, 16)`.
    fn assert_lossless_composite(out: &RgbaImage) {
        assert_eq!(out.dimensions(), (48, 64));
        let upright = imageops::rotate90(&translucent_halves());
        assert_eq!(out.get_pixel(4, 4).0, [255, 0, 0, 255]);
        for (x, y) in [(40, 8), (24, 28), (8, 40), (40, 56)] {
            assert_eq!(
                out.get_pixel(x, y),
                upright.get_pixel(x, y),
                "({x},{y})"
            );
        }
        assert_eq!(upright.get_pixel(24, 8).0, [0, 160, 0, 255]);
        // White at alpha 128 over blue at alpha 128 (Porter-Duff "over"):
        // alpha 128 + 128 × 127/255 = 192, red 255 × 128·255 / (128·255 +
        // 128·127) = 170.
        let band = out.get_pixel(24, 63).0;
        assert!(near(&band, &[170, 170, 255, 192], 1), "{band:?}");
    }

    #[test]
    fn png_and_webp_are_composited_losslessly_over_alpha() {
        let exif = t::orientation_block(6);
        for name in ["base.png", "base.webp"] {
            let c = case(name);
            let mut bytes = Vec::new();
            if name.ends_with("png") {
                let encoder = PngEncoder::new(&mut bytes);
                t::encode_with_exif(
                    encoder,
                    &translucent_halves(),
                    exif.clone(),
                );
            } else {
                let encoder = WebPEncoder::new_lossless(&mut bytes);
                t::encode_with_exif(
                    encoder,
                    &translucent_halves(),
                    exif.clone(),
                );
            }
            std::fs::write(&c.base, &bytes).unwrap();
            t::save_png(&t::overlay(48, 64, 16), &c.overlay);
            composite_image(&c.base, &c.overlay, &c.out).unwrap();
            let written = std::fs::read(&c.out).unwrap();
            let format = image::guess_format(&written).unwrap();
            assert_eq!(format.extensions_str()[0], &name[5..], "{name}");
            assert_lossless_composite(&t::decode(&c.out).into_rgba8());
            assert_eq!(uint(&kamadak_file(&c.out), Tag::Orientation), Some(1));
            let mut reader = Cursor::new(&written);
            if name.ends_with("png") {
                crate::media::png::validate(&mut reader).unwrap();
            } else {
                crate::media::webp::validate(&mut reader).unwrap();
            }
        }
    }

    #[test]
    fn smaller_overlay_is_scaled_to_the_picture() {
        let c = case("base.jpg");
        std::fs::write(&c.base, jpeg(&t::halves(64, 48))).unwrap();
        // 32×24 with an 8-pixel square: twice as large on the picture.
        t::save_png(&t::overlay(32, 24, 8), &c.overlay);
        composite_image(&c.base, &c.overlay, &c.out).unwrap();
        let out = t::decode(&c.out).into_rgb8();
        assert_eq!(out.dimensions(), (64, 48));
        for (x, y) in [(3, 3), (10, 10), (13, 4)] {
            let got = out.get_pixel(x, y).0;
            assert!(near(&got, &RED, 24), "({x},{y}) = {got:?}");
        }
        for (x, y, want) in [(24, 24, GREEN), (8, 30, GREEN), (48, 12, BLUE)] {
            let got = out.get_pixel(x, y).0;
            assert!(near(&got, &want, 12), "({x},{y}) = {got:?}");
        }
    }

    #[test]
    fn composite_is_deterministic() {
        let c = case("base.jpg");
        tagged_jpeg(&c.base);
        t::save_png(&t::overlay(24, 32, 8), &c.overlay);
        composite_image(&c.base, &c.overlay, &c.out).unwrap();
        let first = std::fs::read(&c.out).unwrap();
        composite_image(&c.base, &c.overlay, &c.out).unwrap();
        assert_eq!(std::fs::read(&c.out).unwrap(), first);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let c = case("base.jpg");
        t::save_png(&t::overlay(8, 8, 2), &c.overlay);
        let missing = composite_image(&c.base, &c.overlay, &c.out);
        assert!(missing.unwrap_err().starts_with("failed to read "));
        std::fs::write(&c.base, b"not a picture at all").unwrap();
        let err = composite_image(&c.base, &c.overlay, &c.out).unwrap_err();
        assert!(err.starts_with("failed to decode "), "{err}");
        assert!(err.contains("base.jpg"), "{err}");
        let gif = b"GIF89a\x01\0\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\0;";
        std::fs::write(&c.base, gif).unwrap();
        let err = composite_image(&c.base, &c.overlay, &c.out).unwrap_err();
        assert!(err.contains("unsupported format"), "{err}");
        let good = jpeg(&t::halves(16, 16));
        std::fs::write(&c.base, &good[..good.len() / 3]).unwrap();
        let _ = composite_image(&c.base, &c.overlay, &c.out);
        std::fs::write(&c.base, &good).unwrap();
        std::fs::write(&c.overlay, b"\x89PNG\r\n\x1a\n\0\0").unwrap();
        let err = composite_image(&c.base, &c.overlay, &c.out).unwrap_err();
        assert!(err.starts_with("failed to decode overlay "), "{err}");
        assert!(!c.out.exists());
    }

    #[test]
    fn mutated_pictures_never_panic() {
        let c = case("base.jpg");
        tagged_jpeg(&c.base);
        let seeds = [std::fs::read(&c.base).unwrap(), {
            let mut png = Vec::new();
            let encoder = PngEncoder::new(&mut png);
            let exif = t::orientation_block(8);
            t::encode_with_exif(encoder, &translucent_halves(), exif);
            png
        }];
        t::save_png(&t::overlay(8, 8, 2), &c.overlay);
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for i in 0..400 {
            std::fs::write(&c.base, rng.mutate(&seeds[i % 2])).unwrap();
            let _ = composite_image(&c.base, &c.overlay, &c.out);
        }
    }
}
