//! The overlay layer: decoding the overlay PNG as RGBA and scaling it to
//! the picture or video size (metadata.md §11.2 step 2, §11.3 step 2).
//!
//! Scaling is Lanczos3 on premultiplied alpha, so the colour of fully
//! transparent pixels (often black) does not bleed into the edges of
//! stickers and text.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{Rgba, Rgba32FImage, RgbaImage};

/// Largest picture or video frame an overlay is scaled to, in pixels.
/// Scaling works on 16 bytes per pixel, so this bounds it to about 1 GiB;
/// snaps are far smaller.
const MAX_PIXELS: u64 = 64_000_000;

/// Checks that an overlay may be scaled to `width` × `height`.
pub(super) fn check_size(width: u32, height: u32) -> Result<(), String> {
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!("{width}x{height} is too large for an overlay"));
    }
    Ok(())
}

/// Reads and decodes the overlay at `path` (format chosen by content).
pub(super) fn load(path: &Path) -> Result<RgbaImage, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!("failed to read overlay {}: {e}", path.display())
    })?;
    let image = image::load_from_memory(&bytes).map_err(|e| {
        format!("failed to decode overlay {}: {e}", path.display())
    })?;
    Ok(image.into_rgba8())
}

/// Returns `layer` scaled to exactly `width` × `height` (aspect ratio not
/// kept); a layer of that size already is returned as is.
pub(super) fn fit(layer: RgbaImage, width: u32, height: u32) -> RgbaImage {
    if layer.dimensions() == (width, height) {
        return layer;
    }
    let scaled = imageops::resize(
        &premultiply(&layer),
        width,
        height,
        FilterType::Lanczos3,
    );
    unpremultiply(&scaled)
}

/// Converts to floating point with colour multiplied by alpha.
fn premultiply(layer: &RgbaImage) -> Rgba32FImage {
    let (width, height) = layer.dimensions();
    Rgba32FImage::from_fn(width, height, |x, y| {
        let Rgba([r, g, b, a]) = *layer.get_pixel(x, y);
        let alpha = f32::from(a) / 255.0;
        let c = |v: u8| f32::from(v) / 255.0 * alpha;
        Rgba([c(r), c(g), c(b), alpha])
    })
}

/// Converts back to 8 bits with straight alpha; Lanczos overshoot is
/// clamped and a fully transparent pixel becomes transparent black.
fn unpremultiply(scaled: &Rgba32FImage) -> RgbaImage {
    let (width, height) = scaled.dimensions();
    let to_u8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    RgbaImage::from_fn(width, height, |x, y| {
        let Rgba([r, g, b, a]) = *scaled.get_pixel(x, y);
        let alpha = to_u8(a);
        if alpha == 0 {
            return Rgba([0, 0, 0, 0]);
        }
        let a = a.clamp(1.0 / 255.0, 1.0);
        Rgba([to_u8(r / a), to_u8(g / a), to_u8(b / a), alpha])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_untouched_and_scaling_keeps_colour_at_edges() {
        let mut layer = RgbaImage::new(8, 8);
        for (x, y, p) in layer.enumerate_pixels_mut() {
            // Opaque white left half; transparent black right half.
            *p = if x < 4 { Rgba([255, 255, 255, 255]) } else { Rgba([0; 4]) };
            let _ = y;
        }
        assert_eq!(fit(layer.clone(), 8, 8), layer);
        let scaled = fit(layer, 16, 16);
        assert_eq!(scaled.dimensions(), (16, 16));
        assert_eq!(*scaled.get_pixel(2, 5), Rgba([255, 255, 255, 255]));
        assert_eq!(scaled.get_pixel(14, 5)[3], 0);
        // Straight (non-premultiplied) scaling would darken the edge
        // towards the black of the transparent half.
        for x in 6..10 {
            let p = scaled.get_pixel(x, 5);
            if p[3] > 0 {
                assert!(p[0] >= 250, "edge pixel {x} darkened: {p:?}");
            }
        }
    }

    #[test]
    fn huge_targets_are_refused() {
        assert_eq!(check_size(8000, 8000), Ok(()));
        let err = check_size(8001, 8000).unwrap_err();
        assert_eq!(err, "8001x8000 is too large for an overlay");
        assert!(check_size(u32::MAX, u32::MAX).is_err());
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.png");
        std::fs::write(&path, b"\x89PNG\r\n\x1a\nbroken").unwrap();
        let err = load(&path).unwrap_err();
        assert!(err.starts_with("failed to decode overlay "), "{err}");
        assert!(err.contains("bad.png"), "{err}");
        let err = load(&dir.path().join("missing.png")).unwrap_err();
        assert!(err.starts_with("failed to read overlay "), "{err}");
    }
}
