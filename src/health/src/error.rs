//! The crate's one error type.

use std::path::PathBuf;

/// Why one health source could not be read or understood.
///
/// [`collect`](crate::collect) never returns these: it folds them into the report as a
/// [`SourceStatus`](crate::SourceStatus). The parsers and [`check_space`](crate::check_space) return
/// them directly.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// Text that does not have the expected format.
    #[error("{what}, line {line}: {message}")]
    Parse {
        /// Which format: `/proc/mdstat`, `mdadm --detail`, `smartctl JSON`.
        what: &'static str,
        /// 1-based line number (0 when the problem is the input as a whole).
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// `smartctl -j` output that is not JSON.
    #[error("smartctl output is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A configured command is an empty list.
    #[error("empty command")]
    EmptyCommand,
    /// The program does not exist or may not be executed.
    #[error("{program} is unavailable: {source}")]
    CommandUnavailable {
        /// The program as configured.
        program: String,
        /// The OS error (`NotFound`, `PermissionDenied`).
        source: std::io::Error,
    },
    /// The program could not be started or waited for, for another reason.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program as configured.
        program: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The program did not finish in time and was killed.
    #[error("{program} did not finish within {seconds} s and was killed")]
    Timeout {
        /// The program as configured.
        program: String,
        /// The configured timeout.
        seconds: u64,
    },
    /// The program ran but printed nothing usable.
    #[error("{program} failed ({status}): {message}")]
    CommandFailed {
        /// The program as configured.
        program: String,
        /// Its exit status, as the OS describes it.
        status: String,
        /// Its standard error (or why its output was not understood), shortened.
        message: String,
    },
    /// `statvfs` failed.
    #[error("statvfs {path}: {source}")]
    Statvfs {
        /// The path asked about.
        path: PathBuf,
        /// The OS error.
        source: rustix::io::Errno,
    },
    /// A setting that cannot be right.
    #[error("invalid health configuration: {0}")]
    InvalidConfig(String),
}

impl HealthError {
    pub(crate) fn parse(what: &'static str, line: usize, message: impl Into<String>) -> Self {
        HealthError::Parse { what, line, message: message.into() }
    }
}
