//! Text encoding of uploaded CSV files. Chinese school systems export UTF-8 (with or without a
//! BOM), UTF-16 from some Excel versions, and GBK/GB18030 from older ones. Detection order: a
//! BOM decides; otherwise strict UTF-8 if the bytes are valid UTF-8; otherwise GB18030 (a
//! superset of GBK), accepted only if it decodes without a single replacement.

use encoding_rs::{Encoding, GB18030, UTF_8};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The encoding's name, for the import preview ("UTF-8", "GB18030", "UTF-16LE", ...).
    pub encoding: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodingProblem {
    /// Neither UTF-8 nor GB18030: the file is not text, or in an encoding we do not read.
    Unknown,
}

pub fn decode(bytes: &[u8]) -> Result<Decoded, EncodingProblem> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(EncodingProblem::Unknown);
        }
        return Ok(Decoded { text: text.into_owned(), encoding: encoding.name() });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded { text: text.to_owned(), encoding: UTF_8.name() });
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(EncodingProblem::Unknown);
    }
    Ok(Decoded { text: text.into_owned(), encoding: GB18030.name() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "学号,姓名\n02411001,张䶮\n";

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode(SAMPLE.as_bytes()).unwrap();
        assert_eq!((plain.text.as_str(), plain.encoding), (SAMPLE, "UTF-8"));
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), SAMPLE.as_bytes()].concat();
        assert_eq!(decode(&with_bom).unwrap().text, SAMPLE, "the BOM is not part of the text");
    }

    #[test]
    fn gbk_exports_are_read_as_gb18030() {
        let (gbk, _, _) = encoding_rs::GBK.encode("学号,姓名\n2023080901101,芦瑞\n");
        let decoded = decode(&gbk).unwrap();
        assert_eq!(decoded.encoding, "gb18030");
        assert_eq!(decoded.text, "学号,姓名\n2023080901101,芦瑞\n");
        // A character outside GBK round-trips through GB18030 proper.
        let (gb, _, _) = GB18030.encode("𠮷");
        assert_eq!(decode(&gb).unwrap().text, "𠮷");
    }

    #[test]
    fn utf16_with_a_bom_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in SAMPLE.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(
            decode(&bytes).unwrap(),
            Decoded { text: SAMPLE.to_owned(), encoding: "UTF-16LE" }
        );
    }

    #[test]
    fn the_shared_college_roster_decodes_as_gbk() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/rosters/college.csv");
        let bytes = std::fs::read(path).expect("the shared rosters are next to the repository");
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.encoding, "gb18030");
        assert!(decoded.text.starts_with("学号,姓名,性别"));
        assert_eq!(decoded.text.lines().count(), 2521);
    }
}
