//! The SS-MIX2 standardized-storage rules as pure functions.
//!
//! Brief overview:
//! - [`DATA_TYPE_TABLE`] is the guideline's 36-row table: [`DataType`] (`ADT-00` … `OMG-13`,
//!   `OMD`), Japanese name, HL7 `MSH-9`, 診療日 source field, and whether the trigger cancels.
//! - [`classify`] turns a parsed `hakobune_hl7::Message` and per-sender [`Rules`] into a
//!   [`Classification`]: the [`StorageKey`] (patient ID, 診療日, data type, order number),
//!   [`ProcessingType`] INS/DEL, 発生日時 ([`OccurrenceTime`]), [`Department`], MSH-10, MSH-9,
//!   MSH-3/4. Failures are [`ClassifyError`]s that carry what an HL7 ERR segment needs
//!   ([`Location`], [`ErrorCode`] from table 0357, English and Japanese text).
//! - [`FileName`] (`{pid}_{date}_{type}_{order}_{ts17}_{dept}_{flag}`, [`ConditionFlag`]) with a
//!   tolerant parser, [`relative_dir`] (`pid[0:3]/pid[3:6]/pid/date/type`), and key matching
//!   ([`FileName::belongs_to`], [`file_belongs_to`]).
//! - Transaction storage: [`transaction_header`] / [`TransactionHeader`] (`#SSMIX,2.00,…`) and
//!   [`transaction_file_name`] (`TR_<ts17>_<nnnnn>.DAT`).
//! - [`strip_storage_artifacts`] for readers, [`FacilityId`] for the 10-digit 医療施設ID.
//! - [`samples`] records which reference samples are self-consistent under the default rules.
//!
//! Architecture invariant: this crate is **pure: no I/O, no tokio, no filesystem**. Every
//! function is a total function of its arguments and never panics on any input. Every value that
//! ends up in a path ([`PatientId`], [`CareDate`], [`DataType`], [`OrderNumber`],
//! [`OccurrenceTime`], [`Department`]) is made of ASCII letters, digits and `-` only.
//!
//! Decisions on points the sources leave open (see `shared/reference/ssmix2.md`) are documented
//! on [`Rules`] and its fields; each is configurable per sender.

mod classify;
mod error;
mod facility;
mod location;
mod names;
mod reading;
mod rules;
pub mod samples;
mod table;
mod transaction;

pub use classify::{Classification, INJECTION_ROUTES, NON_INJECTION_ROUTES, classify};
pub use error::{ClassifyError, ErrorCode};
pub use facility::{FacilityId, FacilityIdError};
pub use location::{InvalidLocation, Location};
pub use names::{
    CareDate, ConditionFlag, Department, FileName, FileNameError, InvalidCareDate, InvalidConditionFlag,
    InvalidDepartment, InvalidProcessingType, LEGACY_EXTENSIONS, MinutePrecision, NO_ORDER_NUMBER, OccurrenceTime,
    OrderNumber, OrderNumberError, PatientId, PatientIdError, ProcessingType, StorageKey, TimestampError,
    file_belongs_to, relative_dir,
};
pub use reading::strip_storage_artifacts;
pub use rules::{
    CareDateSource, CareDateSources, DataTypeRule, InvalidDepartmentPolicy, PatientIdRules, Rules, RulesError,
    VersionCheck,
};
pub use table::{
    DATA_TYPE_TABLE, DataType, DataTypeEntry, UnknownDataType, entries_for_message, entry_for, is_known_message_code,
};
pub use transaction::{
    HEADER_MARKER, HEADER_VERSION, HeaderFields, TransactionHeader, TransactionHeaderError,
    parse_transaction_file_name, transaction_file_name, transaction_header,
};
