//! HL7 locations (`PID-3.1`) and the value look-ups the rules need.

use std::fmt;
use std::str::FromStr;

use hakobune_hl7::Message;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A position in an HL7 message: segment ID, then optionally field, component, sub-component,
/// written `SEG`, `SEG-F`, `SEG-F.C` or `SEG-F.C.S` (HL7 numbering; MSH-1 is the field separator).
///
/// Look-ups through a location without a component read component 1: `PV1-10` means the code in
/// PV1-10. Error locations always refer to the first segment with that ID (ERR-2 sequence 1).
/// Serialized (serde) and displayed in the `SEG-F.C.S` form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// Segment ID, e.g. `PID` (3 characters, `[A-Z][A-Z0-9]{2}`).
    pub segment: String,
    /// Field number (1-based); 0 addresses the segment itself.
    pub field: usize,
    /// Component number (1-based), if given.
    pub component: Option<usize>,
    /// Sub-component number (1-based), if given (only with a component).
    pub subcomponent: Option<usize>,
}

/// A string that is not an HL7 location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HL7 location {0:?} (expected e.g. `PID`, `PID-3`, `PID-3.1`, `SPM-17.1.1`)")]
pub struct InvalidLocation(pub String);

/// Largest field/component number a location may name.
const MAX_NUMBER: usize = 999;

impl Location {
    /// A location with segment and field (and optional component).
    pub fn new(segment: &str, field: usize, component: Option<usize>) -> Location {
        Location { segment: segment.to_owned(), field, component, subcomponent: None }
    }

    /// The location of a whole segment.
    pub fn segment(segment: &str) -> Location {
        Location::new(segment, 0, None)
    }

    /// HL7 ERL (ERR-2) text with the standard component separator:
    /// `segment^sequence^field^repetition^component^sub-component`, trailing parts omitted.
    /// The segment sequence and the field repetition are always 1.
    pub fn to_erl(&self) -> String {
        let mut s = format!("{}^1", self.segment);
        if self.field > 0 {
            s.push_str(&format!("^{}^1", self.field));
            if let Some(c) = self.component {
                s.push_str(&format!("^{c}"));
                if let Some(sc) = self.subcomponent {
                    s.push_str(&format!("^{sc}"));
                }
            }
        }
        s
    }

    /// The same location with component 1 when none is given.
    pub(crate) fn component_or_first(&self) -> usize {
        self.component.unwrap_or(1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segment)?;
        if self.field > 0 {
            write!(f, "-{}", self.field)?;
            if let Some(c) = self.component {
                write!(f, ".{c}")?;
                if let Some(s) = self.subcomponent {
                    write!(f, ".{s}")?;
                }
            }
        }
        Ok(())
    }
}

fn is_segment_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 3 && b[0].is_ascii_uppercase() && b[1..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn parse_number(s: &str) -> Option<usize> {
    if s.is_empty() || s.len() > 3 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = s.parse().ok()?;
    (1..=MAX_NUMBER).contains(&n).then_some(n)
}

impl FromStr for Location {
    type Err = InvalidLocation;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidLocation(s.to_owned());
        let (seg, rest) = match s.split_once('-') {
            Some((seg, rest)) => (seg, Some(rest)),
            None => (s, None),
        };
        if !is_segment_id(seg) {
            return Err(bad());
        }
        let Some(rest) = rest else {
            return Ok(Location::segment(seg));
        };
        let mut nums = rest.split('.');
        let field = nums.next().and_then(parse_number).ok_or_else(bad)?;
        let component = match nums.next() {
            Some(c) => Some(parse_number(c).ok_or_else(bad)?),
            None => None,
        };
        let subcomponent = match nums.next() {
            Some(c) => Some(parse_number(c).ok_or_else(bad)?),
            None => None,
        };
        if nums.next().is_some() {
            return Err(bad());
        }
        Ok(Location { segment: seg.to_owned(), field, component, subcomponent })
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The sub-component separator declared in MSH-2 (4th character), `&` by default.
pub(crate) fn subcomponent_separator(msg: &Message) -> char {
    msg.get("MSH-2").chars().nth(3).unwrap_or('&')
}

fn pick_subcomponent(value: &str, sub: Option<usize>, sep: char) -> &str {
    match sub {
        Some(s) => value.split(sep).nth(s.saturating_sub(1)).unwrap_or(""),
        None => value,
    }
}

/// The value at `loc` in the first segment with that ID, first repetition. Without a component,
/// component 1. Empty when absent. For a segment-only location, empty.
pub(crate) fn first_value<'a>(msg: &'a Message, loc: &Location, sep: char) -> &'a str {
    if loc.field == 0 {
        return "";
    }
    let Some(seg) = msg.segment(&loc.segment) else {
        return "";
    };
    let comp = seg.field(loc.field).component(loc.component_or_first());
    pick_subcomponent(comp, loc.subcomponent, sep)
}

/// Like [`first_value`] but, when the location names no sub-component, cut at the first
/// sub-component separator: a TS inside a DR (SPM-17) is a sub-component.
pub(crate) fn first_scalar<'a>(msg: &'a Message, loc: &Location, sep: char) -> &'a str {
    let v = first_value(msg, loc, sep);
    if loc.subcomponent.is_none() { v.split(sep).next().unwrap_or("") } else { v }
}

/// Every value at `loc`: all segments with that ID, all repetitions of the field.
pub(crate) fn all_values<'a>(msg: &'a Message, loc: &'a Location, sep: char) -> Vec<&'a str> {
    if loc.field == 0 {
        return Vec::new();
    }
    let comp = loc.component_or_first();
    let mut out = Vec::new();
    for seg in msg.segments_named(&loc.segment) {
        for rep in seg.field(loc.field).repetitions() {
            out.push(pick_subcomponent(rep.component(comp), loc.subcomponent, sep));
        }
    }
    out
}

/// True when a segment with this ID exists.
pub(crate) fn has_segment(msg: &Message, segment: &str) -> bool {
    msg.segment(segment).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        for s in ["PID", "PID-3", "PID-3.1", "SPM-17.1.1", "ZE1-2", "MSH-9.2"] {
            let l: Location = s.parse().unwrap();
            assert_eq!(l.to_string(), s);
        }
        let l: Location = "ORC-17.1".parse().unwrap();
        assert_eq!(l, Location::new("ORC", 17, Some(1)));
        assert_eq!(l.to_erl(), "ORC^1^17^1^1");
        assert_eq!(Location::segment("PID").to_erl(), "PID^1");
        assert_eq!("PID-3".parse::<Location>().unwrap().to_erl(), "PID^1^3^1");
    }

    #[test]
    fn rejects_bad_locations() {
        for s in [
            "",
            "PI",
            "pid-3",
            "PID-",
            "PID-0",
            "PID-3.",
            "PID-3.0",
            "PID-3.1.1.1",
            "PID-x",
            "1ID-3",
            "PID-1000",
            "PID-3-1",
            "ＰＩＤ-3",
        ] {
            assert!(s.parse::<Location>().is_err(), "{s}");
        }
    }

    #[test]
    fn reads_values() {
        let text = format!("MSH|^~\\&|A\rSPM|1{}201112191500&X^20111220\rRXR|PO~IV\rRXR|SC\r", "|".repeat(16));
        let m = Message::parse(&text).unwrap();
        let sep = subcomponent_separator(&m);
        assert_eq!(sep, '&');
        let spm17: Location = "SPM-17".parse().unwrap();
        assert_eq!(first_value(&m, &spm17, sep), "201112191500&X");
        assert_eq!(first_scalar(&m, &spm17, sep), "201112191500");
        let spm17_2: Location = "SPM-17.2".parse().unwrap();
        assert_eq!(first_scalar(&m, &spm17_2, sep), "20111220");
        let rxr: Location = "RXR-1".parse().unwrap();
        assert_eq!(all_values(&m, &rxr, sep), ["PO", "IV", "SC"]);
        assert_eq!(first_value(&m, &Location::segment("RXR"), sep), "");
        assert!(has_segment(&m, "RXR"));
        assert!(!has_segment(&m, "RXC"));
    }
}
