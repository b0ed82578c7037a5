//! Per-sender classification rules (serde, so a TOML configuration can hold them).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::location::Location;
use crate::names::MinutePrecision;
use crate::table::{DataType, DataTypeEntry, entries_for_message};

/// How strictly MSH-12 (version) is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionCheck {
    /// MSH-12.1 must be exactly `2.5` (default; the SS-MIX2 rule).
    #[default]
    Strict,
    /// `2.5` or `2.5.x` (e.g. `2.5.1`).
    Compatible,
    /// MSH-12 is not checked.
    Off,
}

/// What to do when a department source holds something that is not a unified department code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvalidDepartmentPolicy {
    /// Reject the message (HL7 error 103; default).
    #[default]
    Reject,
    /// Ignore that source and try the next one, then `-`.
    Skip,
}

/// Patient-ID handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PatientIdRules {
    /// Left-pad PID-3.1 with `0` to this width before anything else (0: never pad, default).
    /// E.g. 10 turns `123` into `0000000123`. Applies to every ID, digits or not.
    pub pad_width: usize,
    /// Minimum length after padding (default 4: the shortest ID for which `pid[3:6]`, the second
    /// folder level, is not empty). 1..=15.
    pub min_len: usize,
}

impl Default for PatientIdRules {
    fn default() -> Self {
        PatientIdRules { pad_width: 0, min_len: 4 }
    }
}

/// One data-type rule: for `message`, when the condition holds, the data type is `data_type`.
///
/// The condition looks at every occurrence of `field` (every segment with that ID, every
/// repetition) and holds when one occurrence satisfies all the given predicates. A `field`
/// without a component reads component 1; a bare segment ID (`RXC`) tests the segment's presence.
/// With a field and no predicate, the field must be non-empty. Without a field the rule always
/// matches (a catch-all: put it last).
///
/// TOML: `{ message = "RDE^O11", field = "RXE-21.1", one_of = ["IHP"], data_type = "OMP-02" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataTypeRule {
    /// `TYPE^TRIGGER`, e.g. `RDE^O11`.
    pub message: String,
    /// The HL7 location to test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Location>,
    /// The value equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// The value starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// The value is one of these.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<String>>,
    /// `true`: the field (or segment) is present and non-empty somewhere; `false`: it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// The resulting data type; must be one the table allows for `message`.
    pub data_type: DataType,
}

impl DataTypeRule {
    /// A rule for `message` that tests `field` (presence or non-emptiness until a predicate is
    /// added with the public fields) and yields `data_type`.
    pub fn new(message: impl Into<String>, field: Option<Location>, data_type: DataType) -> DataTypeRule {
        DataTypeRule {
            message: message.into(),
            field,
            equals: None,
            prefix: None,
            one_of: None,
            present: None,
            data_type,
        }
    }

    fn has_value_predicate(&self) -> bool {
        self.equals.is_some() || self.prefix.is_some() || self.one_of.is_some()
    }

    /// True when `value` satisfies every value predicate of the rule.
    pub(crate) fn value_matches(&self, value: &str) -> bool {
        self.equals.as_ref().is_none_or(|e| value == e)
            && self.prefix.as_ref().is_none_or(|p| value.starts_with(p.as_str()))
            && self.one_of.as_ref().is_none_or(|l| l.iter().any(|x| x == value))
    }
}

/// Where a 診療日 comes from: a field, or `-` (no date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CareDateSource {
    /// No date: the `-` folder.
    NoDate,
    /// The first 8 characters of this field (component 1, sub-component 1 unless given).
    Field(Location),
}

impl fmt::Display for CareDateSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CareDateSource::NoDate => f.write_str("-"),
            CareDateSource::Field(l) => l.fmt(f),
        }
    }
}

impl Serialize for CareDateSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CareDateSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "-" {
            return Ok(CareDateSource::NoDate);
        }
        s.parse().map(CareDateSource::Field).map_err(serde::de::Error::custom)
    }
}

/// One or more 診療日 sources, tried in order (the first non-empty field wins; `-` ends the list
/// with "no date"). Deserializes from a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CareDateSources(pub Vec<CareDateSource>);

impl<'de> Deserialize<'de> for CareDateSources {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(CareDateSource),
            Many(Vec<CareDateSource>),
        }
        Ok(match OneOrMany::deserialize(d)? {
            OneOrMany::One(s) => CareDateSources(vec![s]),
            OneOrMany::Many(v) => CareDateSources(v),
        })
    }
}

/// Classification rules for one sender (one `Rules` per sending system; choosing it from
/// MSH-3/MSH-4 is the caller's job). `Rules::default()` follows the reference and the samples.
///
/// Every field has a default, unknown keys are rejected. Example (TOML):
///
/// ```toml
/// version_check = "strict"          # strict | compatible | off
/// minute_precision = "pad"          # pad | reject
/// delete_order_controls = ["CA", "DC", "OC"]
/// department_fields = ["ORC-17.1", "PV1-10.1"]
/// invalid_department = "reject"     # reject | skip
/// order_number_fields = ["ORC-2.1"]
///
/// [patient_id]
/// pad_width = 0
/// min_len = 4
///
/// [[data_type_rules]]
/// message = "RDE^O11"
/// field = "RXE-2.3"
/// equals = "99I02"
/// data_type = "OMP-02"
///
/// [fallback_data_types]
/// "RDE^O11" = "OMP-01"
/// "RAS^O17" = "OMP-11"
///
/// [care_date_fields]
/// "OML-11" = ["SPM-17", "ORC-9"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    /// MSH-12 check (default strict `2.5`).
    pub version_check: VersionCheck,
    /// MSH-7 with only minute precision (default: pad seconds with `00`).
    pub minute_precision: MinutePrecision,
    /// Patient-ID padding and minimum length.
    pub patient_id: PatientIdRules,
    /// Data-type rules for the ambiguous messages, tried first, in order; first match wins.
    pub data_type_rules: Vec<DataTypeRule>,
    /// Whether the built-in discriminators run after `data_type_rules` (default true):
    /// RDE^O11 → OMP-02 when an RXC segment exists or an RXR-1 route is an injection route
    /// ([`INJECTION_ROUTES`](crate::INJECTION_ROUTES)), OMP-01 when RXR-1 is another HL7 0162
    /// route; RAS^O17 → OMP-12 / OMP-11 by the same RXR-1 test; OMG^O19 and OMI^Z23 by the coding
    /// system of OBR-4 (component 3, else 6): `JJ1017…` → radiology (OMG-01/11), `LENDO…` →
    /// endoscopy (OMG-02/12), `JC10`/`JC11` → physiology (OMG-03, orders only).
    pub builtin_data_type_rules: bool,
    /// Data type when neither the configured nor the built-in rules decide, by `TYPE^TRIGGER`.
    /// Default: `RDE^O11` → OMP-01 and `RAS^O17` → OMP-11 (an injection always has RXC or an
    /// injection route); none for OMG^O19 / OMI^Z23, which are then rejected (103).
    pub fallback_data_types: BTreeMap<String, DataType>,
    /// 診療日 source overrides. Key: a data type code (`OML-11`) or a `TYPE^TRIGGER` (`ADT^A53`,
    /// which wins over the data type); value: one location, `-`, or a list tried in order.
    /// Default: empty (the table's Ver.1.2c sources).
    pub care_date_fields: BTreeMap<String, CareDateSources>,
    /// Where the order number comes from, first non-empty wins (default `ORC-2.1`, first ORC).
    pub order_number_fields: Vec<Location>,
    /// First ORC-1 values that make an order message a DEL (default `CA`, `DC`, `OC`).
    pub delete_order_controls: Vec<String>,
    /// Where the department comes from, first non-empty wins (default `ORC-17.1`, `PV1-10.1`).
    pub department_fields: Vec<Location>,
    /// A department value that is not a unified code: reject (default) or skip.
    pub invalid_department: InvalidDepartmentPolicy,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            version_check: VersionCheck::default(),
            minute_precision: MinutePrecision::default(),
            patient_id: PatientIdRules::default(),
            data_type_rules: Vec::new(),
            builtin_data_type_rules: true,
            fallback_data_types: BTreeMap::from([
                ("RDE^O11".to_owned(), DataType::Omp01),
                ("RAS^O17".to_owned(), DataType::Omp11),
            ]),
            care_date_fields: BTreeMap::new(),
            order_number_fields: vec![Location::new("ORC", 2, Some(1))],
            delete_order_controls: ["CA", "DC", "OC"].map(String::from).to_vec(),
            department_fields: vec![Location::new("ORC", 17, Some(1)), Location::new("PV1", 10, Some(1))],
            invalid_department: InvalidDepartmentPolicy::default(),
        }
    }
}

/// A semantic problem in a [`Rules`] value (syntax problems are caught by serde).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// A `TYPE^TRIGGER` that is not in the data-type table.
    #[error("{0:?} is not a TYPE^TRIGGER of the SS-MIX2 data-type table")]
    UnknownMessage(String),
    /// A rule or fallback names a data type the table does not allow for its message.
    #[error("data type {data_type} is not possible for {message}")]
    DataTypeNotForMessage {
        /// `TYPE^TRIGGER`.
        message: String,
        /// The data type.
        data_type: DataType,
    },
    /// A data-type rule has predicates but no field.
    #[error("data-type rule #{0} has predicates but no field")]
    PredicateWithoutField(usize),
    /// A data-type rule combines `present` with a value predicate, or tests a segment's value.
    #[error("data-type rule #{0} combines incompatible predicates")]
    ConflictingPredicates(usize),
    /// A `care_date_fields` key that is neither a data type code nor a table `TYPE^TRIGGER`.
    #[error("care_date_fields key {0:?} is neither a data type nor a TYPE^TRIGGER of the table")]
    UnknownCareDateKey(String),
    /// An empty list where at least one entry is needed.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A location that names a segment only, where a field is needed.
    #[error("{0}: a field location is needed, not a bare segment")]
    SegmentOnly(&'static str),
    /// `patient_id` values out of range.
    #[error("patient_id: min_len must be 1..=15 and pad_width 0..=15")]
    PatientIdRange,
}

fn message_entries(message: &str) -> Vec<&'static DataTypeEntry> {
    match message.split_once('^') {
        Some((code, trigger)) => entries_for_message(code, trigger).collect(),
        None => Vec::new(),
    }
}

fn check_message_type(message: &str, data_type: DataType) -> Result<(), RulesError> {
    let entries = message_entries(message);
    if entries.is_empty() {
        return Err(RulesError::UnknownMessage(message.to_owned()));
    }
    if !entries.iter().any(|e| e.data_type == data_type) {
        return Err(RulesError::DataTypeNotForMessage { message: message.to_owned(), data_type });
    }
    Ok(())
}

impl Rules {
    /// Checks what serde cannot: messages and data types exist in the table and fit together,
    /// rules are well-formed, lists are non-empty, ranges hold. Call it when loading a
    /// configuration. [`classify`](crate::classify) never fails because of a bad rule: a rule
    /// that does not fit is simply never used.
    pub fn validate(&self) -> Result<(), RulesError> {
        let p = &self.patient_id;
        if !(1..=15).contains(&p.min_len) || p.pad_width > 15 {
            return Err(RulesError::PatientIdRange);
        }
        for (i, r) in self.data_type_rules.iter().enumerate() {
            check_message_type(&r.message, r.data_type)?;
            let preds = r.has_value_predicate();
            match &r.field {
                None if preds || r.present.is_some() => {
                    return Err(RulesError::PredicateWithoutField(i));
                }
                Some(f) if f.field == 0 && preds => {
                    return Err(RulesError::ConflictingPredicates(i));
                }
                _ if preds && r.present.is_some() => {
                    return Err(RulesError::ConflictingPredicates(i));
                }
                _ => {}
            }
        }
        for (message, data_type) in &self.fallback_data_types {
            check_message_type(message, *data_type)?;
        }
        for (key, sources) in &self.care_date_fields {
            let known = DataType::from_code(key).is_some() || !message_entries(key).is_empty();
            if !known {
                return Err(RulesError::UnknownCareDateKey(key.clone()));
            }
            if sources.0.is_empty() {
                return Err(RulesError::Empty("care_date_fields entry"));
            }
            if sources.0.iter().any(|s| matches!(s, CareDateSource::Field(l) if l.field == 0)) {
                return Err(RulesError::SegmentOnly("care_date_fields"));
            }
        }
        if self.order_number_fields.is_empty() {
            return Err(RulesError::Empty("order_number_fields"));
        }
        if self.order_number_fields.iter().any(|l| l.field == 0) {
            return Err(RulesError::SegmentOnly("order_number_fields"));
        }
        if self.department_fields.iter().any(|l| l.field == 0) {
            return Err(RulesError::SegmentOnly("department_fields"));
        }
        Ok(())
    }

    /// The 診療日 sources for a table row: the override for its `TYPE^TRIGGER`, else for its
    /// data type, else the table's field (or `-`).
    pub fn care_date_sources(&self, entry: &DataTypeEntry) -> Vec<CareDateSource> {
        let by_message = self.care_date_fields.get(&entry.message());
        let by_type = self.care_date_fields.get(entry.data_type.code());
        if let Some(s) = by_message.or(by_type) {
            return s.0.clone();
        }
        match entry.care_date_field.and_then(|f| f.parse().ok()) {
            Some(loc) => vec![CareDateSource::Field(loc)],
            None => vec![CareDateSource::NoDate],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid() {
        Rules::default().validate().unwrap();
    }

    #[test]
    fn doc_example_parses() {
        let text = r#"
version_check = "strict"          # strict | compatible | off
minute_precision = "pad"          # pad | reject
delete_order_controls = ["CA", "DC", "OC"]
department_fields = ["ORC-17.1", "PV1-10.1"]
invalid_department = "reject"     # reject | skip
order_number_fields = ["ORC-2.1"]

[patient_id]
pad_width = 0
min_len = 4

[[data_type_rules]]
message = "RDE^O11"
field = "RXE-2.3"
equals = "99I02"
data_type = "OMP-02"

[fallback_data_types]
"RDE^O11" = "OMP-01"
"RAS^O17" = "OMP-11"

[care_date_fields]
"OML-11" = ["SPM-17", "ORC-9"]
"#;
        let r: Rules = toml::from_str(text).unwrap();
        r.validate().unwrap();
        let defaults = Rules {
            data_type_rules: r.data_type_rules.clone(),
            care_date_fields: r.care_date_fields.clone(),
            ..Rules::default()
        };
        assert_eq!(r, defaults);
        assert_eq!(toml::from_str::<Rules>("").unwrap(), Rules::default());
    }

    #[test]
    fn toml_round_trip() {
        let text = r#"
            version_check = "compatible"
            minute_precision = "reject"
            delete_order_controls = ["CA"]
            department_fields = ["PV1-10"]
            invalid_department = "skip"

            [patient_id]
            pad_width = 10

            [[data_type_rules]]
            message = "RDE^O11"
            field = "RXE-21.1"
            one_of = ["IHP", "FTP"]
            data_type = "OMP-02"

            [[data_type_rules]]
            message = "OMG^O19"
            field = "ZXX"
            present = true
            data_type = "OMG-03"

            [[data_type_rules]]
            message = "OMI^Z23"
            data_type = "OMG-11"

            [fallback_data_types]
            "OMG^O19" = "OMG-01"

            [care_date_fields]
            "OML-11" = ["SPM-17", "ORC-9"]
            "ADT^A53" = "EVN-6"
            "ADT-01" = "-"
        "#;
        let r: Rules = toml::from_str(text).unwrap();
        r.validate().unwrap();
        assert_eq!(r.version_check, VersionCheck::Compatible);
        assert_eq!(r.minute_precision, MinutePrecision::Reject);
        assert_eq!(r.patient_id, PatientIdRules { pad_width: 10, min_len: 4 });
        assert_eq!(r.data_type_rules.len(), 3);
        assert_eq!(r.data_type_rules[0].field, Some(Location::new("RXE", 21, Some(1))));
        assert_eq!(r.fallback_data_types.len(), 1);
        assert_eq!(r.order_number_fields, vec![Location::new("ORC", 2, Some(1))]);
        assert_eq!(r.department_fields, vec![Location::new("PV1", 10, None)]);
        assert_eq!(
            r.care_date_fields["OML-11"].0,
            vec![CareDateSource::Field("SPM-17".parse().unwrap()), CareDateSource::Field("ORC-9".parse().unwrap())]
        );
        assert_eq!(r.care_date_fields["ADT-01"].0, vec![CareDateSource::NoDate]);
        // Serialize and read back.
        let back: Rules = toml::from_str(&toml::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        let json: Rules = serde_json::from_str(&serde_json::to_string(&Rules::default()).unwrap()).unwrap();
        assert_eq!(json, Rules::default());
    }

    #[test]
    fn serde_rejects_bad_config() {
        assert!(toml::from_str::<Rules>("nonsense = 1").is_err());
        assert!(toml::from_str::<Rules>("department_fields = [\"PV1-x\"]").is_err());
        assert!(toml::from_str::<Rules>("version_check = \"loose\"").is_err());
        assert!(toml::from_str::<Rules>("[[data_type_rules]]\nmessage = \"RDE^O11\"\ndata_type = \"OMP-99\"").is_err());
        assert!(toml::from_str::<Rules>("[care_date_fields]\n\"OML-11\" = \"SPM\"").is_ok());
    }

    fn rule(message: &str, field: Option<&str>, data_type: DataType) -> DataTypeRule {
        DataTypeRule::new(message, field.map(|f| f.parse().unwrap()), data_type)
    }

    #[test]
    fn validate_catches_semantic_errors() {
        let with = |f: &dyn Fn(&mut Rules)| {
            let mut r = Rules::default();
            f(&mut r);
            r.validate()
        };
        assert_eq!(
            with(&|r| r.data_type_rules.push(rule("RDE^O99", None, DataType::Omp01))),
            Err(RulesError::UnknownMessage("RDE^O99".into()))
        );
        assert!(matches!(
            with(&|r| r.data_type_rules.push(rule("RDE^O11", None, DataType::Omg01))),
            Err(RulesError::DataTypeNotForMessage { .. })
        ));
        assert_eq!(
            with(&|r| {
                let mut x = rule("RDE^O11", None, DataType::Omp02);
                x.equals = Some("A".into());
                r.data_type_rules.push(x)
            }),
            Err(RulesError::PredicateWithoutField(0))
        );
        assert_eq!(
            with(&|r| {
                let mut x = rule("RDE^O11", Some("RXC"), DataType::Omp02);
                x.equals = Some("A".into());
                r.data_type_rules.push(x)
            }),
            Err(RulesError::ConflictingPredicates(0))
        );
        assert_eq!(
            with(&|r| {
                let mut x = rule("RDE^O11", Some("RXE-2.3"), DataType::Omp02);
                x.equals = Some("A".into());
                x.present = Some(true);
                r.data_type_rules.push(x)
            }),
            Err(RulesError::ConflictingPredicates(0))
        );
        assert!(matches!(
            with(&|r| {
                r.fallback_data_types.insert("OMG^O19".into(), DataType::Omp01);
            }),
            Err(RulesError::DataTypeNotForMessage { .. })
        ));
        assert_eq!(
            with(&|r| {
                r.care_date_fields.insert("XYZ".into(), CareDateSources(vec![CareDateSource::NoDate]));
            }),
            Err(RulesError::UnknownCareDateKey("XYZ".into()))
        );
        assert_eq!(
            with(&|r| {
                r.care_date_fields.insert("OMD".into(), CareDateSources(vec![]));
            }),
            Err(RulesError::Empty("care_date_fields entry"))
        );
        assert_eq!(
            with(&|r| {
                r.care_date_fields
                    .insert("OMD".into(), CareDateSources(vec![CareDateSource::Field(Location::segment("ORC"))]));
            }),
            Err(RulesError::SegmentOnly("care_date_fields"))
        );
        assert_eq!(with(&|r| r.order_number_fields.clear()), Err(RulesError::Empty("order_number_fields")));
        assert_eq!(
            with(&|r| r.order_number_fields = vec![Location::segment("ORC")]),
            Err(RulesError::SegmentOnly("order_number_fields"))
        );
        assert_eq!(
            with(&|r| r.department_fields = vec![Location::segment("PV1")]),
            Err(RulesError::SegmentOnly("department_fields"))
        );
        assert_eq!(with(&|r| r.patient_id.min_len = 0), Err(RulesError::PatientIdRange));
        assert_eq!(with(&|r| r.patient_id.pad_width = 16), Err(RulesError::PatientIdRange));
    }

    #[test]
    fn care_date_source_precedence() {
        let mut r = Rules::default();
        let a53 = crate::entry_for(DataType::Adt32, "ADT", "A53").unwrap();
        assert_eq!(r.care_date_sources(a53), vec![CareDateSource::Field("PV2-47".parse().unwrap())]);
        r.care_date_fields
            .insert("ADT-32".into(), CareDateSources(vec![CareDateSource::Field("EVN-2".parse().unwrap())]));
        assert_eq!(r.care_date_sources(a53), vec![CareDateSource::Field("EVN-2".parse().unwrap())]);
        r.care_date_fields
            .insert("ADT^A53".into(), CareDateSources(vec![CareDateSource::Field("EVN-6".parse().unwrap())]));
        assert_eq!(r.care_date_sources(a53), vec![CareDateSource::Field("EVN-6".parse().unwrap())]);
        let a08 = crate::entry_for(DataType::Adt00, "ADT", "A08").unwrap();
        assert_eq!(r.care_date_sources(a08), vec![CareDateSource::NoDate]);
    }
}
