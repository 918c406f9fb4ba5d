//! Snapchat image overlay compositing (metadata.md §11.2, issue #6): a
//! 1080×1920 JPEG photo with a full-size overlay PNG, decoded, blended and
//! encoded at quality 95, ten times; the median is printed (target
//! ≤ 60 ms). The image crate is built without its rayon feature, so each
//! composite runs on one core.
//!
//! Run with `cargo bench --bench overlay`.

// The bench drives the media layer directly; it is self-contained (it
// uses nothing outside `crate::media`), so it compiles here as is.
#[allow(unused)]
#[path = "../src/media/mod.rs"]
mod media;

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

/// Composites timed; the median counts.
const ROUNDS: usize = 10;
/// Portrait full HD, the size of a phone snap.
const WIDTH: u32 = 1080;
const HEIGHT: u32 = 1920;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = dir.path().join("snap.jpg");
    let overlay = dir.path().join("snap.overlay.png");
    let out = dir.path().join("out.jpg");
    std::fs::write(&base, photo()).expect("photo");
    overlay_layer().save_with_format(&overlay, ImageFormat::Png).expect("png");
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        media::overlay::composite_image(&base, &overlay, &out)
            .expect("composite");
        times.push(start.elapsed());
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    times.sort();
    println!(
        "composite {WIDTH}x{HEIGHT} JPEG + full-size overlay: median {:.1} ms, \
         min {:.1} ms ({ROUNDS} runs, target <= 60 ms)",
        ms(times[ROUNDS / 2]),
        ms(times[0]),
    );
}

/// Returns a photo-like JPEG (smooth gradients with fine texture, so the
/// encoder has real detail to code) at quality 90.
fn photo() -> Vec<u8> {
    let image = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let grain = ((x * 7919 + y * 104_729) % 23) as u8;
        Rgb([
            ((x * 255 / WIDTH) as u8).saturating_add(grain),
            ((y * 255 / HEIGHT) as u8).saturating_add(grain),
            (((x + y) % 256) as u8) / 2 + grain,
        ])
    });
    let mut out = Cursor::new(Vec::new());
    let encoder =
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
    image.write_with_encoder(encoder).expect("encode photo");
    out.into_inner()
}

/// Returns a full-size overlay like a Snapchat caption: a translucent
/// band with opaque "text" blocks, a sticker, the rest transparent.
fn overlay_layer() -> RgbaImage {
    RgbaImage::from_fn(WIDTH, HEIGHT, |x, y| {
        let band = (1200..1290).contains(&y);
        let letter = band && (x / 24) % 2 == 0 && (1220..1270).contains(&y);
        let sticker = (100..400).contains(&x) && (200..500).contains(&y);
        if letter {
            Rgba([255, 255, 255, 255])
        } else if band {
            Rgba([0, 0, 0, 150])
        } else if sticker {
            Rgba([255, 200, 0, 230])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}
