//! Media classes by file extension (platforms.md §2.2).

/// The class of a file judged by its extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Still images, raw formats included.
    Image,
    /// Videos.
    Video,
    /// Audio, kept only where a platform says so.
    Audio,
}

const IMAGE: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "avif", "tif", "tiff",
    "bmp", "mpo", "dng", "cr2", "cr3", "nef", "arw", "raf", "orf", "rw2",
    "pef", "srw",
];
const VIDEO: &[&str] = &[
    "mp4", "mov", "m4v", "3gp", "avi", "webm", "mkv", "mts", "m2ts", "mpg",
    "mpeg", "wmv",
];
const AUDIO: &[&str] =
    &["mp3", "m4a", "wav", "aac", "caf", "ogg", "flac", "amr"];

/// Returns the class of extension `ext` (without the dot, any case).
pub(crate) fn class_of_ext(ext: &str) -> Option<Class> {
    let ext = ext.to_ascii_lowercase();
    let ext = ext.as_str();
    if IMAGE.contains(&ext) {
        Some(Class::Image)
    } else if VIDEO.contains(&ext) {
        Some(Class::Video)
    } else if AUDIO.contains(&ext) {
        Some(Class::Audio)
    } else {
        None
    }
}

/// Returns every image and video extension (lower case, no dot), images
/// first.
pub(crate) fn media_exts() -> impl Iterator<Item = &'static str> {
    IMAGE.iter().chain(VIDEO).copied()
}

/// Returns the class of a file name judged by its last extension.
pub(crate) fn class_of_name(name: &str) -> Option<Class> {
    let (_, ext) = name.rsplit_once('.')?;
    class_of_ext(ext)
}

/// Returns true for images and videos.
pub(crate) fn is_media_name(name: &str) -> bool {
    matches!(class_of_name(name), Some(Class::Image | Class::Video))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_by_extension() {
        assert_eq!(class_of_name("a.JPG"), Some(Class::Image));
        assert_eq!(class_of_name("a.b.mov"), Some(Class::Video));
        assert_eq!(class_of_name("a.m4a"), Some(Class::Audio));
        assert_eq!(class_of_name("a.json"), None);
        assert_eq!(class_of_name("noext"), None);
        assert!(is_media_name("x.dng"));
        assert!(!is_media_name("x.mp3"));
    }
}
