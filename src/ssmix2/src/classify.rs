//! Classification: from a parsed HL7 message to its SS-MIX2 data type, key and file name.

use hakobune_hl7::Message;
use serde::Serialize;

use crate::error::ClassifyError;
use crate::location::{Location, all_values, first_scalar, first_value, has_segment, subcomponent_separator};
use crate::names::{
    CareDate, ConditionFlag, Department, FileName, OccurrenceTime, OrderNumber, PatientId, PatientIdError,
    ProcessingType, StorageKey,
};
use crate::rules::{CareDateSource, DataTypeRule, InvalidDepartmentPolicy, Rules, VersionCheck};
use crate::table::{DataType, DataTypeEntry, entries_for_message, is_known_message_code};

/// HL7 table 0162 routes that mean an injection (used by the built-in RDE^O11 / RAS^O17 rules):
/// IV intravenous, IM intramuscular, SC subcutaneous, ID intradermal, IA intra-arterial,
/// IT intrathecal, IC intracardiac, IP intraperitoneal, IS intrasynovial, IB intrabursal,
/// IHA intrahepatic artery, EP epidural, PF perfusion.
pub const INJECTION_ROUTES: [&str; 13] =
    ["IV", "IM", "SC", "ID", "IA", "IT", "IC", "IP", "IS", "IB", "IHA", "EP", "PF"];

/// The other HL7 table 0162 routes (oral, topical, inhaled, …): the built-in rules read them as
/// "not an injection". Codes in neither list (IO intraocular, OTH other, local codes) decide
/// nothing.
pub const NON_INJECTION_ROUTES: [&str; 32] = [
    "AP", "B", "DT", "ET", "GTT", "GU", "IMR", "ICV", "IH", "IN", "IU", "MM", "MTH", "NG", "NP", "NS", "NT", "OP",
    "OT", "PO", "PR", "RM", "SD", "SL", "TD", "TL", "TP", "TRA", "UR", "VG", "VM", "WND",
];

/// The result of [`classify`]: everything needed to name, place and index the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// The data-type table row the message matched.
    pub entry: &'static DataTypeEntry,
    /// The version key (patient ID, 診療日, data type, order number).
    pub key: StorageKey,
    /// 処理区分.
    pub processing: ProcessingType,
    /// 発生日時 (from MSH-7).
    pub occurred: OccurrenceTime,
    /// 診療科コード or `-`.
    pub department: Department,
    /// MSH-10 (message control ID).
    pub control_id: String,
    /// MSH-9, raw (e.g. `RDE^O11^RDE_O11`).
    pub message_type: String,
    /// MSH-3 (sending application), raw field text.
    pub sending_application: String,
    /// MSH-4 (sending facility), raw field text.
    pub sending_facility: String,
}

impl Classification {
    /// The data type.
    pub fn data_type(&self) -> DataType {
        self.key.data_type
    }

    /// The name the message itself is stored under: flag `1` for INS, `0` for DEL.
    pub fn file_name(&self) -> FileName {
        self.file_name_with_flag(self.processing.new_file_flag())
    }

    /// The file name with a given flag.
    pub fn file_name_with_flag(&self, flag: ConditionFlag) -> FileName {
        FileName { key: self.key.clone(), occurred: self.occurred.clone(), department: self.department.clone(), flag }
    }

    /// The folder, relative to the storage root: `pid[0:3]/pid[3:6]/pid/date/type`.
    pub fn relative_dir(&self) -> String {
        self.key.relative_dir()
    }
}

fn loc(segment: &str, field: usize, component: Option<usize>) -> Location {
    Location::new(segment, field, component)
}

fn missing(location: Location, what: &'static str) -> ClassifyError {
    ClassifyError::MissingField { location, what }
}

/// Classifies a parsed HL7 v2.5 message for the SS-MIX2 standardized storage.
///
/// Checks, in this order (the first failure is returned): MSH-12 version, MSH-9 in the table,
/// MSH-10 present, MSH-7 usable as 発生日時, the data type (rules for ambiguous messages), the
/// patient ID (PID-3: the first repetition whose CX-5 is `PI`, else the first repetition;
/// component 1), the 診療日, the order number, the department. Then decides INS/DEL: the table's
/// cancellation triggers are DEL; for non-ADT types, a first ORC-1 in
/// [`Rules::delete_order_controls`] is DEL; everything else is INS.
///
/// Pure and total: never panics, whatever the message holds.
pub fn classify(msg: &Message, rules: &Rules) -> Result<Classification, ClassifyError> {
    let sep = subcomponent_separator(msg);
    check_version(msg, rules)?;
    let candidates = message_entries(msg)?;
    let control_id = msg.get("MSH-10");
    if control_id.is_empty() {
        return Err(missing(loc("MSH", 10, None), "message control ID"));
    }
    let occurred = occurrence_time(msg, rules)?;
    let entry = resolve_data_type(msg, rules, &candidates, sep)?;
    let patient_id = patient_id(msg, rules)?;
    let care_date = care_date(msg, rules, entry, sep)?;
    let order_number = order_number(msg, rules, entry, sep)?;
    let department = department(msg, rules, sep)?;
    let processing = processing_type(msg, rules, entry);
    Ok(Classification {
        entry,
        key: StorageKey { patient_id, care_date, data_type: entry.data_type, order_number },
        processing,
        occurred,
        department,
        control_id: control_id.to_owned(),
        message_type: msg.get("MSH-9").to_owned(),
        sending_application: msg.get("MSH-3").to_owned(),
        sending_facility: msg.get("MSH-4").to_owned(),
    })
}

fn check_version(msg: &Message, rules: &Rules) -> Result<(), ClassifyError> {
    let v = msg.get("MSH-12.1");
    let ok = match rules.version_check {
        VersionCheck::Off => return Ok(()),
        VersionCheck::Strict => v == "2.5",
        VersionCheck::Compatible => v == "2.5" || v.strip_prefix("2.5.").is_some_and(|r| !r.is_empty()),
    };
    if v.is_empty() {
        return Err(missing(loc("MSH", 12, Some(1)), "version ID"));
    }
    if !ok {
        return Err(ClassifyError::UnsupportedVersion { found: v.to_owned() });
    }
    Ok(())
}

fn message_entries(msg: &Message) -> Result<Vec<&'static DataTypeEntry>, ClassifyError> {
    let code = msg.get("MSH-9.1");
    let trigger = msg.get("MSH-9.2");
    if code.is_empty() {
        return Err(missing(loc("MSH", 9, Some(1)), "message type"));
    }
    if !is_known_message_code(code) {
        return Err(ClassifyError::UnsupportedMessageType { message_code: code.to_owned() });
    }
    if trigger.is_empty() {
        return Err(missing(loc("MSH", 9, Some(2)), "trigger event"));
    }
    let entries: Vec<_> = entries_for_message(code, trigger).collect();
    if entries.is_empty() {
        return Err(ClassifyError::UnsupportedEvent {
            message_code: code.to_owned(),
            trigger_event: trigger.to_owned(),
        });
    }
    Ok(entries)
}

fn occurrence_time(msg: &Message, rules: &Rules) -> Result<OccurrenceTime, ClassifyError> {
    let v = msg.get("MSH-7.1");
    if v.is_empty() {
        return Err(missing(loc("MSH", 7, Some(1)), "date/time of message"));
    }
    OccurrenceTime::from_hl7(v, rules.minute_precision)
        .map_err(|reason| ClassifyError::InvalidTimestamp { value: v.to_owned(), reason })
}

// ---------------------------------------------------------------------------------------------
// Data type

fn rule_matches(msg: &Message, rule: &DataTypeRule, sep: char) -> bool {
    let Some(field) = &rule.field else {
        return true;
    };
    if field.field == 0 {
        let present = has_segment(msg, &field.segment);
        return rule.present.unwrap_or(true) == present;
    }
    let values = all_values(msg, field, sep);
    match rule.present {
        Some(want) => values.iter().any(|v| !v.is_empty()) == want,
        None => values.iter().any(|v| !v.is_empty() && rule.value_matches(v)),
    }
}

enum Route {
    Injection,
    Other,
}

fn route_kind(msg: &Message, sep: char) -> Option<Route> {
    let rxr1 = loc("RXR", 1, Some(1));
    let routes = all_values(msg, &rxr1, sep);
    if routes.iter().any(|r| INJECTION_ROUTES.contains(r)) {
        Some(Route::Injection)
    } else if routes.iter().any(|r| NON_INJECTION_ROUTES.contains(r)) {
        Some(Route::Other)
    } else {
        None
    }
}

enum Modality {
    Radiology,
    Endoscopy,
    Physiology,
}

fn obr_modality(msg: &Message, sep: char) -> Option<Modality> {
    for seg in msg.segments_named("OBR") {
        let code = seg.field(4);
        for comp in [3, 6] {
            let cs = code.component(comp);
            let cs = cs.split(sep).next().unwrap_or("");
            if cs.starts_with("JJ1017") {
                return Some(Modality::Radiology);
            }
            if cs.starts_with("LENDO") {
                return Some(Modality::Endoscopy);
            }
            if cs == "JC10" || cs == "JC11" {
                return Some(Modality::Physiology);
            }
        }
    }
    None
}

fn builtin_data_type(msg: &Message, code: &str, trigger: &str, sep: char) -> Option<DataType> {
    match (code, trigger) {
        ("RDE", "O11") => {
            if has_segment(msg, "RXC") {
                return Some(DataType::Omp02);
            }
            match route_kind(msg, sep)? {
                Route::Injection => Some(DataType::Omp02),
                Route::Other => Some(DataType::Omp01),
            }
        }
        ("RAS", "O17") => match route_kind(msg, sep)? {
            Route::Injection => Some(DataType::Omp12),
            Route::Other => Some(DataType::Omp11),
        },
        ("OMG", "O19") => match obr_modality(msg, sep)? {
            Modality::Radiology => Some(DataType::Omg01),
            Modality::Endoscopy => Some(DataType::Omg02),
            Modality::Physiology => Some(DataType::Omg03),
        },
        ("OMI", "Z23") => match obr_modality(msg, sep)? {
            Modality::Radiology => Some(DataType::Omg11),
            Modality::Endoscopy => Some(DataType::Omg12),
            Modality::Physiology => None,
        },
        _ => None,
    }
}

fn resolve_data_type(
    msg: &Message,
    rules: &Rules,
    candidates: &[&'static DataTypeEntry],
    sep: char,
) -> Result<&'static DataTypeEntry, ClassifyError> {
    let [first, ..] = candidates else {
        // message_entries never returns an empty list; answer as for an unknown event anyway.
        return Err(ClassifyError::UnsupportedEvent {
            message_code: msg.get("MSH-9.1").to_owned(),
            trigger_event: msg.get("MSH-9.2").to_owned(),
        });
    };
    if candidates.len() == 1 {
        return Ok(first);
    }
    let message = first.message();
    let pick = |dt: DataType| candidates.iter().copied().find(|e| e.data_type == dt);
    for rule in rules.data_type_rules.iter().filter(|r| r.message == message) {
        if rule_matches(msg, rule, sep)
            && let Some(e) = pick(rule.data_type)
        {
            return Ok(e);
        }
    }
    if rules.builtin_data_type_rules
        && let Some(e) = builtin_data_type(msg, first.message_code, first.trigger_event, sep).and_then(pick)
    {
        return Ok(e);
    }
    if let Some(e) = rules.fallback_data_types.get(&message).and_then(|dt| pick(*dt)) {
        return Ok(e);
    }
    let location = match first.message_code {
        "RDE" | "RAS" => loc("RXR", 1, Some(1)),
        _ => loc("OBR", 4, Some(3)),
    };
    Err(ClassifyError::AmbiguousDataType {
        message,
        candidates: candidates.iter().map(|e| e.data_type).collect(),
        location,
    })
}

// ---------------------------------------------------------------------------------------------
// Key parts

fn patient_id(msg: &Message, rules: &Rules) -> Result<PatientId, ClassifyError> {
    let location = loc("PID", 3, Some(1));
    let Some(pid) = msg.segment("PID") else {
        return Err(ClassifyError::MissingSegment { segment: "PID".into(), what: "patient ID" });
    };
    let field = pid.field(3);
    let rep = field.repetitions().find(|r| r.component(5) == "PI").unwrap_or(field);
    let raw = rep.component(1);
    if raw.is_empty() {
        return Err(missing(location, "patient ID"));
    }
    let len = raw.chars().count();
    // Clamped: an unvalidated, huge pad width must not allocate; 16 already fails as too long.
    let pad_width = rules.patient_id.pad_width.min(PatientId::MAX_LEN + 1);
    let value = if len < pad_width { format!("{}{raw}", "0".repeat(pad_width - len)) } else { raw.to_owned() };
    let invalid = |reason| ClassifyError::InvalidPatientId { location: location.clone(), value: value.clone(), reason };
    let id = PatientId::new(&value).map_err(invalid)?;
    let min = rules.patient_id.min_len;
    if value.len() < min {
        return Err(invalid(PatientIdError::TooShort { len: value.len(), min }));
    }
    Ok(id)
}

fn segment_missing_or_field(msg: &Message, location: &Location, what: &'static str) -> ClassifyError {
    if has_segment(msg, &location.segment) {
        missing(location.clone(), what)
    } else {
        ClassifyError::MissingSegment { segment: location.segment.clone(), what }
    }
}

fn care_date(msg: &Message, rules: &Rules, entry: &DataTypeEntry, sep: char) -> Result<CareDate, ClassifyError> {
    let sources = rules.care_date_sources(entry);
    let mut first_field: Option<&Location> = None;
    for source in &sources {
        let location = match source {
            CareDateSource::NoDate => return Ok(CareDate::NONE),
            CareDateSource::Field(l) => l,
        };
        first_field.get_or_insert(location);
        let v = first_scalar(msg, location, sep);
        if v.is_empty() {
            continue;
        }
        return CareDate::from_hl7(v)
            .map_err(|_| ClassifyError::InvalidCareDate { location: location.clone(), value: v.to_owned() });
    }
    match first_field {
        Some(l) => Err(segment_missing_or_field(msg, l, "care date")),
        None => Ok(CareDate::NONE),
    }
}

fn order_number(msg: &Message, rules: &Rules, entry: &DataTypeEntry, sep: char) -> Result<OrderNumber, ClassifyError> {
    if !entry.data_type.has_order_number() {
        return Ok(OrderNumber::none());
    }
    for location in &rules.order_number_fields {
        let v = first_value(msg, location, sep);
        if v.is_empty() {
            continue;
        }
        return OrderNumber::from_hl7(v).map_err(|reason| ClassifyError::InvalidOrderNumber {
            location: location.clone(),
            value: v.to_owned(),
            reason,
        });
    }
    let fallback = loc("ORC", 2, Some(1));
    let first = rules.order_number_fields.first().unwrap_or(&fallback);
    Err(segment_missing_or_field(msg, first, "order number"))
}

fn department(msg: &Message, rules: &Rules, sep: char) -> Result<Department, ClassifyError> {
    for location in &rules.department_fields {
        let v = first_value(msg, location, sep);
        if v.is_empty() {
            continue;
        }
        match Department::new(v) {
            Ok(d) => return Ok(d),
            Err(_) if rules.invalid_department == InvalidDepartmentPolicy::Skip => continue,
            Err(_) => {
                return Err(ClassifyError::InvalidDepartment { location: location.clone(), value: v.to_owned() });
            }
        }
    }
    Ok(Department::NONE)
}

fn processing_type(msg: &Message, rules: &Rules, entry: &DataTypeEntry) -> ProcessingType {
    if entry.cancels {
        return ProcessingType::Del;
    }
    if !entry.data_type.is_adt() {
        let control = msg.get("ORC-1.1");
        if !control.is_empty() && rules.delete_order_controls.iter().any(|c| c == control) {
            return ProcessingType::Del;
        }
    }
    ProcessingType::Ins
}
