//! The parsed message model.

use std::ops::Range;

/// Why text could not be parsed as an HL7 v2 message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The message holds no segment.
    #[error("empty message")]
    Empty,
    /// The first segment is not MSH.
    #[error("message does not start with an MSH segment")]
    NoMsh,
    /// MSH-1/MSH-2 do not define usable, distinct delimiters.
    #[error("MSH does not define valid delimiters (MSH-1, MSH-2)")]
    BadDelimiters,
}

/// The delimiters a message declares in MSH-1 and MSH-2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    /// Field separator (MSH-1), normally `|`.
    pub field: char,
    /// Component separator, normally `^`.
    pub component: char,
    /// Repetition separator, normally `~`.
    pub repetition: char,
    /// Escape character, normally `\`.
    pub escape: char,
    /// Sub-component separator, normally `&`.
    pub subcomponent: char,
}

impl Default for Delimiters {
    fn default() -> Self {
        Delimiters { field: '|', component: '^', repetition: '~', escape: '\\', subcomponent: '&' }
    }
}

impl Delimiters {
    /// MSH-2 as these delimiters spell it: component, repetition, escape, sub-component (`^~\&`).
    pub fn encoding_characters(&self) -> String {
        [self.component, self.repetition, self.escape, self.subcomponent].iter().collect()
    }

    /// Escapes free text for use as a field value: each delimiter becomes its HL7 escape sequence
    /// (`\F\` field, `\S\` component, `\T\` sub-component, `\R\` repetition, `\E\` escape),
    /// CR, LF and CRLF become the line-break command `\.br\`, and other control characters a space.
    pub fn escape(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            let code = if ch == self.field {
                Some("F")
            } else if ch == self.component {
                Some("S")
            } else if ch == self.subcomponent {
                Some("T")
            } else if ch == self.repetition {
                Some("R")
            } else if ch == self.escape {
                Some("E")
            } else if ch == '\r' || ch == '\n' {
                if ch == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                Some(".br")
            } else {
                None
            };
            match code {
                Some(code) => {
                    out.push(self.escape);
                    out.push_str(code);
                    out.push(self.escape);
                }
                None if ch.is_control() => out.push(' '),
                None => out.push(ch),
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
struct Seg {
    /// Byte ranges into the text: index 0 is the segment ID, then the fields as split on the field
    /// separator (for MSH, index 1 is MSH-2).
    parts: Vec<Range<usize>>,
}

/// A parsed HL7 v2 message. Owns its decoded text; accessors borrow from it.
#[derive(Debug, Clone)]
pub struct Message {
    text: String,
    /// Bytes trimmed from the start of the text given to [`Message::parse`].
    base: usize,
    delims: Delimiters,
    segments: Vec<Seg>,
}

/// A position in a message, as HL7's ERL data type (ERR-2) spells it: segment ID, the segment's
/// sequence among segments with that ID, then field, repetition, component and sub-component, each
/// 1-based and optional from the right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// Segment ID, e.g. `PID`.
    pub segment: String,
    /// 1-based sequence of this segment among the segments with the same ID.
    pub sequence: usize,
    /// Field number in HL7 numbering (MSH-1 is the field separator).
    pub field: Option<usize>,
    /// 1-based repetition of the field.
    pub repetition: Option<usize>,
    /// 1-based component.
    pub component: Option<usize>,
    /// 1-based sub-component.
    pub subcomponent: Option<usize>,
}

impl Location {
    /// A whole segment, e.g. the first `PID`.
    pub fn segment(id: &str, sequence: usize) -> Location {
        Location {
            segment: id.to_owned(),
            sequence,
            field: None,
            repetition: None,
            component: None,
            subcomponent: None,
        }
    }

    /// A field of a segment, e.g. `PID` 1, field 3.
    pub fn field(id: &str, sequence: usize, field: usize) -> Location {
        Location { field: Some(field), ..Location::segment(id, sequence) }
    }

    /// The ERL form with `^` between components, trailing empty components left out:
    /// `PID^1^5^2^1`. Each part stops at the first absent one.
    pub fn to_erl(&self) -> String {
        let mut out = Delimiters::default().escape(&self.segment);
        out.push('^');
        out.push_str(&self.sequence.to_string());
        for part in [self.field, self.repetition, self.component, self.subcomponent] {
            let Some(n) = part else { break };
            out.push('^');
            out.push_str(&n.to_string());
        }
        out
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}]", self.segment, self.sequence)?;
        if let Some(field) = self.field {
            write!(f, "-{field}")?;
            if let Some(rep) = self.repetition {
                write!(f, "({rep})")?;
            }
            for part in [self.component, self.subcomponent].into_iter().map_while(|p| p) {
                write!(f, ".{part}")?;
            }
        }
        Ok(())
    }
}

impl Message {
    /// Parses decoded message text. Segments may end with CR, LF or CRLF; empty lines are skipped.
    /// Trailing MLLP bytes (0x0B, 0x1C) that leaked into the text are ignored.
    pub fn parse(text: &str) -> Result<Message, ParseError> {
        let trimmed = text.trim_start_matches(['\u{0b}', '\r', '\n']);
        let base = text.len() - trimmed.len();
        let text = trimmed;
        let text = text.trim_end_matches(['\u{1c}', '\r', '\n']);
        if text.is_empty() {
            return Err(ParseError::Empty);
        }
        if !text.starts_with("MSH") {
            return Err(ParseError::NoMsh);
        }
        let delims = parse_delimiters(text)?;
        let owned = text.to_owned();
        let mut segments = Vec::new();
        let mut pos = 0usize;
        for line in owned.split(['\r', '\n']) {
            let start = pos;
            pos += line.len() + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = Vec::new();
            let mut field_start = start;
            for (i, ch) in line.char_indices() {
                if ch == delims.field {
                    // MSH-1 is the separator itself: the first separator only ends the segment ID.
                    parts.push(field_start..start + i);
                    field_start = start + i + ch.len_utf8();
                }
            }
            parts.push(field_start..start + line.len());
            segments.push(Seg { parts });
        }
        Ok(Message { text: owned, base, delims, segments })
    }

    /// The decoded text the message was parsed from (segment separators preserved).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The delimiters declared in MSH.
    pub fn delimiters(&self) -> &Delimiters {
        &self.delims
    }

    /// All segments in order.
    pub fn segments(&self) -> impl Iterator<Item = Segment<'_>> {
        self.segments.iter().map(move |seg| Segment { msg: self, seg })
    }

    /// The first segment with this ID.
    pub fn segment(&self, id: &str) -> Option<Segment<'_>> {
        self.segments().find(|s| s.id() == id)
    }

    /// Every segment with this ID, in order.
    pub fn segments_named<'a>(&'a self, id: &'a str) -> impl Iterator<Item = Segment<'a>> + 'a {
        self.segments().filter(move |s| s.id() == id)
    }

    /// The MSH segment (always present in a parsed message).
    pub fn msh(&self) -> Segment<'_> {
        Segment { msg: self, seg: &self.segments[0] }
    }

    /// Value at an HL7 location such as `PID-3`, `PID-3.1`, `ORC-17.1` or `RXE-21.2.1`
    /// (first segment of that ID, first repetition). Empty string when absent.
    pub fn get(&self, location: &str) -> &str {
        let Some((seg_id, rest)) = location.split_once('-') else { return "" };
        let mut nums = rest.split('.').map(|n| n.parse::<usize>().unwrap_or(0));
        let field = nums.next().unwrap_or(0);
        let comp = nums.next();
        let sub = nums.next();
        let Some(seg) = self.segment(seg_id) else { return "" };
        let f = seg.field(field);
        match (comp, sub) {
            (None, _) => f.as_str(),
            (Some(c), None) => f.component(c),
            (Some(c), Some(s)) => f.subcomponent(c, s),
        }
    }

    /// Where a byte offset of the text given to [`Message::parse`] falls: segment, field,
    /// repetition, component and sub-component. `None` for offsets outside any segment (segment
    /// terminators, skipped blank lines, trimmed MLLP bytes, past the end). An offset inside the
    /// segment ID gives a location without a field; MSH-1 and MSH-2 have no repetition or
    /// component. Use it with [`crate::charset::CharIssue::text_offset`].
    pub fn locate(&self, text_offset: usize) -> Option<Location> {
        let off = text_offset.checked_sub(self.base)?;
        let index = self.segments.iter().position(|seg| {
            let first = seg.parts.first();
            let last = seg.parts.last();
            matches!((first, last), (Some(f), Some(l)) if f.start <= off && off < l.end)
        })?;
        let seg = Segment { msg: self, seg: &self.segments[index] };
        let id = seg.id();
        let sequence = self.segments[..index].iter().filter(|s| Segment { msg: self, seg: s }.id() == id).count() + 1;
        let mut loc = Location::segment(id, sequence);
        // The part the offset is in: the last one starting at or before it.
        let part = seg.seg.parts.iter().rposition(|r| r.start <= off)?;
        if part == 0 {
            return if off < seg.seg.parts[0].end { Some(loc) } else { None };
        }
        let is_msh = id == "MSH";
        let field = if is_msh { part + 1 } else { part };
        loc.field = Some(field);
        if is_msh && field == 2 {
            return Some(loc);
        }
        let range = &seg.seg.parts[part];
        let before = self.text.get(range.start..off.min(range.end))?;
        let d = &self.delims;
        let rep_start = before.rfind(d.repetition).map_or(0, |i| i + d.repetition.len_utf8());
        let in_rep = &before[rep_start..];
        let comp_start = in_rep.rfind(d.component).map_or(0, |i| i + d.component.len_utf8());
        let in_comp = &in_rep[comp_start..];
        loc.repetition = Some(before.matches(d.repetition).count() + 1);
        loc.component = Some(in_rep.matches(d.component).count() + 1);
        loc.subcomponent = Some(in_comp.matches(d.subcomponent).count() + 1);
        Some(loc)
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Always false: a parsed message has at least MSH.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }
}

fn parse_delimiters(text: &str) -> Result<Delimiters, ParseError> {
    let mut chars = text.chars().skip(3);
    let field = chars.next().ok_or(ParseError::BadDelimiters)?;
    let enc: Vec<char> = chars.take_while(|&c| c != field).take(5).collect();
    if field.is_alphanumeric() || field == '\r' || field == '\n' || enc.len() < 2 {
        return Err(ParseError::BadDelimiters);
    }
    let d = Delimiters {
        field,
        component: enc[0],
        repetition: enc[1],
        escape: enc.get(2).copied().unwrap_or('\\'),
        subcomponent: enc.get(3).copied().unwrap_or('&'),
    };
    let all = [d.field, d.component, d.repetition, d.escape, d.subcomponent];
    for (i, a) in all.iter().enumerate() {
        if a.is_alphanumeric() || a.is_whitespace() || all[i + 1..].contains(a) {
            return Err(ParseError::BadDelimiters);
        }
    }
    Ok(d)
}

/// One segment of a [`Message`].
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    msg: &'a Message,
    seg: &'a Seg,
}

impl<'a> Segment<'a> {
    /// Segment ID, e.g. `PID`.
    pub fn id(&self) -> &'a str {
        &self.msg.text[self.seg.parts[0].clone()]
    }

    /// Field `n` in HL7 numbering (MSH-1 is the field separator, MSH-2 the encoding characters).
    /// An absent field is empty.
    pub fn field(&self, n: usize) -> Field<'a> {
        let text: &'a str = if n == 0 {
            self.id()
        } else if self.id() == "MSH" {
            if n == 1 {
                // The separator itself: borrow it from the text right after "MSH" (absent when a
                // later "MSH" line has no field at all).
                let start = self.seg.parts[0].end;
                let sep = self.msg.text.get(start..start + self.msg.delims.field.len_utf8()).unwrap_or("");
                if self.seg.parts.len() > 1 { sep } else { "" }
            } else {
                self.seg.parts.get(n - 1).map(|r| &self.msg.text[r.clone()]).unwrap_or("")
            }
        } else {
            self.seg.parts.get(n).map(|r| &self.msg.text[r.clone()]).unwrap_or("")
        };
        Field { text, delims: self.msg.delims }
    }

    /// Number of the last field present (HL7 numbering).
    pub fn field_count(&self) -> usize {
        let n = self.seg.parts.len() - 1;
        if self.id() == "MSH" { n + 1 } else { n }
    }

    /// The whole segment text.
    pub fn as_str(&self) -> &'a str {
        let first = &self.seg.parts[0];
        let last = self.seg.parts.last().unwrap_or(first);
        &self.msg.text[first.start..last.end]
    }
}

/// One field of a [`Segment`] (all repetitions).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    text: &'a str,
    delims: Delimiters,
}

impl<'a> Field<'a> {
    /// The raw field text, repetitions and components included.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The delimiters of the message the field belongs to.
    pub fn delimiters(&self) -> Delimiters {
        self.delims
    }

    /// True when the field is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The repetitions of the field.
    pub fn repetitions(&self) -> impl Iterator<Item = Field<'a>> + 'a {
        let delims = self.delims;
        self.text.split(delims.repetition).map(move |text| Field { text, delims })
    }

    /// Component `n` (1-based) of the first repetition; empty when absent.
    pub fn component(&self, n: usize) -> &'a str {
        let first = self.text.split(self.delims.repetition).next().unwrap_or("");
        if n == 0 {
            return first;
        }
        first.split(self.delims.component).nth(n - 1).unwrap_or("")
    }

    /// Sub-component `s` of component `c` (both 1-based) of the first repetition.
    pub fn subcomponent(&self, c: usize, s: usize) -> &'a str {
        let comp = self.component(c);
        if s == 0 {
            return comp;
        }
        comp.split(self.delims.subcomponent).nth(s - 1).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADT: &str = "MSH|^~\\&|HIS123|SEND|GW|RCV|20111220224447.3399||ADT^A08^ADT_A01|20111220000001|P|2.5\rEVN||201112202100\rPID|0001||9999013^^^^PI||患者^太郎^^^^^L^I~カンジャ^タロウ^^^^^L^P||19480405|M\r";

    #[test]
    fn addresses_fields_the_hl7_way() {
        let m = Message::parse(ADT).unwrap();
        assert_eq!(m.get("MSH-1"), "|");
        assert_eq!(m.get("MSH-2"), "^~\\&");
        assert_eq!(m.get("MSH-3"), "HIS123");
        assert_eq!(m.get("MSH-9.1"), "ADT");
        assert_eq!(m.get("MSH-9.2"), "A08");
        assert_eq!(m.get("MSH-10"), "20111220000001");
        assert_eq!(m.get("MSH-12"), "2.5");
        assert_eq!(m.get("PID-3.1"), "9999013");
        assert_eq!(m.get("PID-3.5"), "PI");
        assert_eq!(m.get("PID-5.1"), "患者");
        assert_eq!(m.get("PID-8"), "M");
        assert_eq!(m.get("PID-99"), "");
        assert_eq!(m.get("ZZZ-1"), "");
        let names: Vec<_> = m.segment("PID").unwrap().field(5).repetitions().map(|r| r.component(1)).collect();
        assert_eq!(names, ["患者", "カンジャ"]);
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn tolerates_lf_and_mllp_leftovers() {
        let m = Message::parse("\u{0b}MSH|^~\\&|A\nPID|1||42\n\u{1c}").unwrap();
        assert_eq!(m.get("PID-3"), "42");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn later_bare_msh_segment_has_empty_fields() {
        // Used to slice past the end of the text for MSH-1 of the second segment.
        let m = Message::parse("MSH|^~\\&|A\rMSH").unwrap();
        let bare = m.segments().nth(1).unwrap();
        assert_eq!(bare.id(), "MSH");
        assert_eq!(bare.field(1).as_str(), "");
        assert_eq!(bare.field(2).as_str(), "");
        assert_eq!(m.get("MSH-1"), "|");
    }

    #[test]
    fn escape_free_text() {
        let d = Delimiters::default();
        assert_eq!(d.escape("a|b^c&d~e\\f"), "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f");
        assert_eq!(d.escape("1\r\n2\n3\r4\t5"), "1\\.br\\2\\.br\\3\\.br\\4 5");
        assert_eq!(d.escape("患者"), "患者");
        assert_eq!(d.encoding_characters(), "^~\\&");
    }

    #[test]
    fn rejects_non_hl7() {
        assert_eq!(Message::parse("").unwrap_err(), ParseError::Empty);
        assert_eq!(Message::parse("GET / HTTP/1.1").unwrap_err(), ParseError::NoMsh);
        assert_eq!(Message::parse("MSH").unwrap_err(), ParseError::BadDelimiters);
        assert_eq!(Message::parse("MSH|||").unwrap_err(), ParseError::BadDelimiters);
        assert_eq!(Message::parse("MSHa^~").unwrap_err(), ParseError::BadDelimiters);
    }
}
