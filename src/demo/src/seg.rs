//! Building HL7 v2 segments by field number, so that field positions never depend on counting `|`.

/// One segment under construction: an ID and fields numbered from 1.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    id: &'static str,
    fields: Vec<String>,
}

impl Seg {
    /// An empty segment with this ID.
    pub(crate) fn new(id: &'static str) -> Seg {
        Seg { id, fields: Vec::new() }
    }

    /// Sets field `n` (1-based; for MSH use [`msh`] instead). Field 0 is ignored.
    pub(crate) fn f(mut self, n: usize, value: impl Into<String>) -> Seg {
        if n == 0 {
            return self;
        }
        if self.fields.len() < n {
            self.fields.resize(n, String::new());
        }
        if let Some(slot) = self.fields.get_mut(n - 1) {
            *slot = value.into();
        }
        self
    }

    /// The segment text without terminator; trailing empty fields are dropped.
    pub(crate) fn render(&self) -> String {
        let last = self.fields.iter().rposition(|f| !f.is_empty()).map_or(0, |i| i + 1);
        let mut out = String::from(self.id);
        for field in self.fields.iter().take(last) {
            out.push('|');
            out.push_str(field);
        }
        out
    }
}

/// The SS-MIX2 MSH segment.
pub(crate) fn msh(app: &str, facility: &str, time: &str, msh9: &str, control_id: &str) -> String {
    format!(
        "MSH|^~\\&|{app}|{facility}|GW|RCV|{time}||{msh9}|{control_id}|P|2.5||||||~ISO IR87||ISO 2022-1994|\
         SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO"
    )
}

/// XCN for a staff member, kanji representation: `ID^姓^名^^^^^^^L^^^^^I`.
pub(crate) fn xcn(id: &str, family: &str, given: &str) -> String {
    format!("{id}^{family}^{given}^^^^^^^L^^^^^I")
}

/// CWE `code^text^system`.
pub(crate) fn cwe(code: &str, text: &str, system: &str) -> String {
    format!("{code}^{text}^{system}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_by_number() {
        let s = Seg::new("PV1").f(1, "0001").f(2, "I").f(10, "01").f(44, "").render();
        assert_eq!(s, "PV1|0001|I||||||||01");
        assert_eq!(Seg::new("EVN").render(), "EVN");
        let m = msh("A", "F", "20250407090000.000", "ADT^A08^ADT_A01", "X1");
        let fields: Vec<&str> = m.split('|').collect();
        // fields[n] is MSH-(n+1) because MSH-1 is the separator itself.
        assert_eq!(fields[8], "ADT^A08^ADT_A01");
        assert_eq!(fields[9], "X1");
        assert_eq!(fields[11], "2.5");
        assert_eq!(fields[17], "~ISO IR87");
        assert_eq!(fields[19], "ISO 2022-1994");
        assert_eq!(fields[20], "SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO");
    }
}
