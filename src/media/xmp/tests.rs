//! Tests of the XMP sidecar writer and reader (metadata.md §7), including
//! the byte-exact spec example and read-back by exiftool.

use jiff::tz::Offset;

use super::parse::{parse_coordinate, parse_date, unescape};
use super::*;
use crate::media::model::ExistingDate;

/// The example of metadata.md §7, byte for byte.
const SPEC_EXAMPLE: &str = "\
<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">
  <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">
    <rdf:Description rdf:about=\"\"
        xmlns:dc=\"http://purl.org/dc/elements/1.1/\"
        xmlns:exif=\"http://ns.adobe.com/exif/1.0/\"
        xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"
        exif:DateTimeOriginal=\"2021-01-04T18:08:30-05:00\"
        xmp:CreateDate=\"2021-01-04T18:08:30-05:00\"
        xmp:ModifyDate=\"2021-01-04T18:08:30-05:00\"
        exif:GPSVersionID=\"2.3.0.0\"
        exif:GPSLatitude=\"40,30.000000N\"
        exif:GPSLongitude=\"73,54.000000W\">
      <dc:description>
        <rdf:Alt>
          <rdf:li xml:lang=\"x-default\">Source: Snapchat/jane/memories</rdf:li>
        </rdf:Alt>
      </dc:description>
    </rdf:Description>
  </rdf:RDF>
</x:xmpmeta>
<?xpacket end=\"w\"?>
";

fn stamp(local: &str, offset_hours: i8) -> Stamp {
    Stamp {
        local: local.parse().expect("valid datetime literal"),
        offset: Offset::from_hours(offset_hours).expect("valid offset"),
    }
}

fn gps(latitude: f64, longitude: f64, altitude: Option<f64>) -> Gps {
    Gps { latitude, longitude, altitude }
}

/// The inputs of the spec example.
fn example() -> Metadata {
    Metadata {
        date: Some(stamp("2021-01-04T18:08:30", -5)),
        gps: Some(gps(40.5, -73.9, None)),
        description: Some("Source: Snapchat/jane/memories".to_string()),
        description_policy: DescriptionPolicy::Overwrite,
    }
}

fn written(meta: &Metadata, existing: &Existing) -> String {
    sidecar(meta, existing).expect("a sidecar is needed")
}

#[test]
fn reproduces_the_spec_example() {
    let xml = written(&example(), &Existing::default());
    assert_eq!(xml, SPEC_EXAMPLE);
    assert!(xml.as_bytes().starts_with(b"<?xpacket begin=\"\xEF\xBB\xBF\""));
}

#[test]
fn reads_back_its_own_layout() {
    let back = read(SPEC_EXAMPLE);
    let want = ExistingDate::Local {
        local: stamp("2021-01-04T18:08:30", -5).local,
        offset: Some(Offset::from_hours(-5).expect("valid offset")),
    };
    assert_eq!(back.date, Some(want));
    let pos = back.gps.expect("position reads back");
    assert!((pos.latitude - 40.5).abs() < 1e-9, "{pos:?}");
    assert!((pos.longitude + 73.9).abs() < 1e-9, "{pos:?}");
    assert_eq!(pos.altitude, None);
    assert_eq!(
        back.description.as_deref(),
        Some("Source: Snapchat/jane/memories")
    );
}

#[test]
fn writes_altitude_as_a_rational() {
    let cases = [
        (Some(12.3), Some(("0", "12300/1000", 12.3))),
        (Some(-5.5), Some(("1", "5500/1000", -5.5))),
        (Some(0.0), None),
        (Some(0.0001), None),
        (Some(f64::NAN), None),
        (None, None),
    ];
    for (altitude, want) in cases {
        let meta =
            Metadata { gps: Some(gps(40.5, -73.9, altitude)), ..example() };
        let xml = written(&meta, &Existing::default());
        let back = read(&xml).gps.expect("position reads back");
        match want {
            Some((r, rational, metres)) => {
                let attrs = format!(
                    "\n        exif:GPSAltitudeRef=\"{r}\"\
                     \n        exif:GPSAltitude=\"{rational}\">"
                );
                assert!(xml.contains(&attrs), "{altitude:?}: {xml}");
                assert_eq!(back.altitude, Some(metres));
            }
            None => {
                assert!(!xml.contains("GPSAltitude"), "{altitude:?}");
                assert_eq!(back.altitude, None);
            }
        }
    }
}

#[test]
fn formats_coordinates_and_dates() {
    let cases = [
        (40.5, ['N', 'S'], "40,30.000000N"),
        (-73.9, ['E', 'W'], "73,54.000000W"),
        (-33.8688, ['N', 'S'], "33,52.128000S"),
        (151.2093, ['E', 'W'], "151,12.558000E"),
        (10.999_999_999_9, ['N', 'S'], "11,00.000000N"),
        (0.0, ['E', 'W'], "0,00.000000E"),
        (-180.0, ['E', 'W'], "180,00.000000W"),
    ];
    for (value, refs, want) in cases {
        assert_eq!(coordinate(value, refs), want, "{value}");
        let back = parse_coordinate(want, refs[0], refs[1]);
        let back = back.expect("coordinate parses");
        assert!((back - value).abs() < 1e-7, "{want} -> {back}");
    }
    let india = Stamp {
        offset: Offset::from_seconds(5 * 3600 + 1800).expect("valid"),
        ..stamp("0999-03-04T05:06:07", 0)
    };
    assert_eq!(format_date(&india), "0999-03-04T05:06:07+05:30");
    let utc = stamp("2021-01-04T23:08:30", 0);
    assert_eq!(format_date(&utc), "2021-01-04T23:08:30+00:00");
    let newfoundland = Stamp {
        offset: Offset::from_seconds(-(3 * 3600 + 1800)).expect("valid"),
        ..utc
    };
    assert_eq!(format_date(&newfoundland), "2021-01-04T23:08:30-03:30");
}

#[test]
fn escapes_and_round_trips_descriptions() {
    let cases = [
        "He said \"hi\" & <b>bye</b> > 3",
        "line one\nline two\n\nline four",
        "emoji 😀🎉 ünïcödé 日本語",
        "tab\there and 'apostrophes'",
        "windows\r\nline end",
        "&amp; stays literal &#x26;",
        "]]> <![CDATA[ not cdata",
    ];
    for text in cases {
        let meta =
            Metadata { description: Some(text.to_string()), ..example() };
        let xml = written(&meta, &Existing::default());
        let back = read(&xml);
        assert_eq!(back.description.as_deref(), Some(text), "{xml}");
    }
    let meta =
        Metadata { description: Some(cases[0].to_string()), ..example() };
    let xml = written(&meta, &Existing::default());
    assert!(xml.contains(
        ">He said &quot;hi&quot; &amp; &lt;b&gt;bye&lt;/b&gt; &gt; 3</rdf:li>"
    ));
    let meta =
        Metadata { description: Some(cases[1].to_string()), ..example() };
    let xml = written(&meta, &Existing::default());
    assert!(xml.contains(">line one\nline two\n\nline four</rdf:li>"));
}

#[test]
fn escapes_attributes_and_drops_invalid_characters() {
    assert_eq!(
        escape("a\"b\nc\td\re", Quote::Attr),
        "a&quot;b&#xA;c&#x9;d&#xD;e"
    );
    assert_eq!(escape("bell\u{7}\u{0}\u{FFFE}!", Quote::Text), "bell!");
    assert_eq!(unescape("&lt;&#60;&#x3C;&bogus;&"), "<<<&bogus;&");
}

#[test]
fn writes_only_what_the_file_lacks() {
    let meta = example();
    let own_date = ExistingDate::Instant(Default::default());
    let own_gps = gps(1.0, 2.0, None);

    let has_date = Existing { date: Some(own_date), ..Default::default() };
    let xml = written(&meta, &has_date);
    assert!(!xml.contains("Date"), "{xml}");
    assert!(
        xml.contains("exif:GPSLatitude=") && xml.contains("<dc:description>")
    );

    let has_gps = Existing { gps: Some(own_gps), ..Default::default() };
    let xml = written(&meta, &has_gps);
    assert!(!xml.contains("GPS"), "{xml}");
    assert!(
        xml.contains("exif:DateTimeOriginal=")
            && xml.contains("<dc:description>")
    );

    // Keep-if-present: an existing description blocks ours, and the
    // element closes empty.
    let keep = Metadata {
        description_policy: DescriptionPolicy::KeepIfPresent,
        ..meta.clone()
    };
    let has_desc = Existing {
        description: Some("theirs".to_string()),
        ..Default::default()
    };
    let xml = written(&keep, &has_desc);
    assert!(!xml.contains("dc:description>"), "{xml}");
    let end = "exif:GPSLongitude=\"73,54.000000W\"/>\n  </rdf:RDF>";
    assert!(xml.contains(end), "{xml}");
    // Overwrite: ours goes in regardless.
    let xml = written(&meta, &has_desc);
    assert!(xml.contains(">Source: Snapchat/jane/memories</rdf:li>"));
}

#[test]
fn dates_only_layout_is_exact() {
    let meta = Metadata { gps: None, description: None, ..example() };
    // The spec example cut after the dates, the element closed empty.
    let cut = SPEC_EXAMPLE
        .find("\n        exif:GPSVersionID")
        .expect("the example holds GPS");
    let want = format!(
        "{}/>\n  </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>\n",
        &SPEC_EXAMPLE[..cut]
    );
    assert_ne!(want, SPEC_EXAMPLE);
    assert_eq!(written(&meta, &Existing::default()), want);
}

#[test]
fn nothing_to_write() {
    let empty = Metadata {
        date: None,
        gps: None,
        description: None,
        description_policy: DescriptionPolicy::Overwrite,
    };
    assert_eq!(sidecar(&empty, &Existing::default()), None);
    let blank = Metadata { description: Some(" \n ".to_string()), ..empty };
    assert_eq!(sidecar(&blank, &Existing::default()), None);
    let keep = Metadata {
        description_policy: DescriptionPolicy::KeepIfPresent,
        ..example()
    };
    let full = Existing {
        date: Some(ExistingDate::Instant(Default::default())),
        gps: Some(gps(1.0, 2.0, None)),
        description: Some("theirs".to_string()),
    };
    assert_eq!(sidecar(&keep, &full), None);
    assert!(sidecar(&example(), &full).is_some(), "overwrite still writes");
}

#[test]
fn reads_other_writers_layouts() {
    let xml = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF>\
        <rdf:Description rdf:about='' exif:GPSLatitudeRef='N'\n\
         exif:GPSLatitude = '33,52,7.68S' exif:GPSLongitude='151,12.558E'>\
        <exif:DateTimeOriginal>2019-07-01T10:20:30.45Z</exif:DateTimeOriginal>\
        <exif:GPSAltitudeRef>1</exif:GPSAltitudeRef>\
        <exif:GPSAltitude>25/10</exif:GPSAltitude>\
        <dc:description><rdf:Alt>\
        <rdf:li xml:lang='de-DE'>Hallo</rdf:li>\
        <rdf:li xml:lang='x-default'>  Hello &amp;#38; &#x1F600;\n</rdf:li>\
        </rdf:Alt></dc:description></rdf:Description></rdf:RDF></x:xmpmeta>";
    let back = read(xml);
    let want = ExistingDate::Local {
        local: "2019-07-01T10:20:30".parse().expect("valid"),
        offset: Some(Offset::UTC),
    };
    assert_eq!(back.date, Some(want));
    let pos = back.gps.expect("position");
    assert!((pos.latitude + 33.8688).abs() < 1e-9, "{pos:?}");
    assert!((pos.longitude - 151.2093).abs() < 1e-9, "{pos:?}");
    assert_eq!(pos.altitude, Some(-2.5));
    assert_eq!(back.description.as_deref(), Some("Hello &#38; 😀"));
}

#[test]
fn reads_plain_and_odd_values() {
    let plain = "<rdf:Description dc:description=\"a &quot;b&quot;\" \
        exif:DateTimeOriginal=\"2019-07-01T10:20\"/>";
    let back = read(plain);
    assert_eq!(back.description.as_deref(), Some("a \"b\""));
    let want = ExistingDate::Local {
        local: "2019-07-01T10:20:00".parse().expect("valid"),
        offset: None,
    };
    assert_eq!(back.date, Some(want));

    let dates = [
        ("2019-07-01", Some(("2019-07-01T00:00:00", None))),
        (
            "2019-07-01T10:20:30+0530",
            Some(("2019-07-01T10:20:30", Some(19800))),
        ),
        ("2019-07-01T10:20:30-08", Some(("2019-07-01T10:20:30", Some(-28800)))),
        ("0000-00-00T00:00:00", None),
        ("", None),
        ("yesterday", None),
        ("2019-13-01T00:00:00", None),
        ("2019-07-01T10:20:30+99:00", None),
    ];
    for (text, want) in dates {
        let want = want.map(|(local, secs): (&str, Option<i32>)| {
            ExistingDate::Local {
                local: local.parse().expect("valid"),
                offset: secs.map(|s| Offset::from_seconds(s).expect("valid")),
            }
        });
        assert_eq!(parse_date(text), want, "{text:?}");
    }

    // 0,0 is no position; a missing or bad hemisphere is no value.
    let zero = "<r exif:GPSLatitude=\"0,0N\" exif:GPSLongitude=\"0,0E\"/>";
    assert_eq!(read(zero).gps, None);
    let bad = "<r exif:GPSLatitude=\"40,30\" exif:GPSLongitude=\"73,54W\"/>";
    assert_eq!(read(bad).gps, None);
    // Neighbouring names are not confused.
    let refs = "<r exif:GPSLatitudeRef=\"N\" exif:GPSLongitudeRef=\"W\"/>";
    assert_eq!(read(refs).gps, None);
    assert_eq!(
        read("<dc:description><rdf:Alt/></dc:description>").description,
        None
    );
    assert_eq!(read("not xml at all <<<"), Existing::default());
    assert_eq!(read(""), Existing::default());
}

/// Runs `exiftool -j -n` on `path` and returns its only JSON object.
fn exiftool_json(path: &std::path::Path) -> serde_json::Value {
    let out = std::process::Command::new("exiftool")
        .args(["-j", "-n"])
        .arg(path)
        .output()
        .expect("exiftool must be installed to run this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("exiftool prints JSON");
    json[0].clone()
}

#[test]
fn exiftool_reads_a_written_sidecar() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("x.gif.xmp");
    let text = "Source: \"Snapchat\" & <jane>\nline two 😀";
    let meta = Metadata {
        gps: Some(gps(40.5, -73.9, Some(12.3))),
        description: Some(text.to_string()),
        ..example()
    };
    let xml = written(&meta, &Existing::default());
    std::fs::write(&path, xml).expect("write sidecar");
    let tags = exiftool_json(&path);
    for name in ["DateTimeOriginal", "CreateDate", "ModifyDate"] {
        assert_eq!(tags[name], "2021:01:04 18:08:30-05:00", "{name}: {tags}");
    }
    assert_eq!(tags["GPSLatitude"].as_f64(), Some(40.5), "{tags}");
    assert_eq!(tags["GPSLongitude"].as_f64(), Some(-73.9), "{tags}");
    assert_eq!(tags["GPSAltitude"].as_f64(), Some(12.3), "{tags}");
    assert_eq!(tags["GPSAltitudeRef"].as_i64(), Some(0), "{tags}");
    assert_eq!(tags["Description"], text, "{tags}");
}

#[test]
fn reads_what_exiftool_writes() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("y.xmp");
    let out = std::process::Command::new("exiftool")
        .args([
            "-n",
            "-XMP-exif:DateTimeOriginal=2020:02:03 04:05:06+01:00",
            "-XMP-exif:GPSLatitude=-12.25",
            "-XMP-exif:GPSLongitude=130.5",
            "-XMP-dc:Description=Tom & \"Jerry\"",
            "-o",
        ])
        .arg(&path)
        .output()
        .expect("exiftool must be installed to run this test");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let xml = std::fs::read_to_string(&path).expect("read exiftool's XMP");
    let back = read(&xml);
    let want = ExistingDate::Local {
        local: "2020-02-03T04:05:06".parse().expect("valid"),
        offset: Some(Offset::from_hours(1).expect("valid")),
    };
    assert_eq!(back.date, Some(want), "{xml}");
    let pos = back.gps.expect("position");
    assert!((pos.latitude + 12.25).abs() < 1e-6, "{pos:?} {xml}");
    assert!((pos.longitude - 130.5).abs() < 1e-6, "{pos:?} {xml}");
    assert_eq!(back.description.as_deref(), Some("Tom & \"Jerry\""), "{xml}");
}
