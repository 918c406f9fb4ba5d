//! Tests of the ISO-BMFF writer, reader and checker.
