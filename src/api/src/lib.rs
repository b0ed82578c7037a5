//! The HTTP API of the accumulation server.
//!
//! Brief overview:
//! - [`router`] builds the axum router over an [`ApiState`]; [`serve`] runs it on a bound listener
//!   until a cancellation token fires.
//! - Endpoints: `GET /api/v1/facilities/{facility}/patients/{pid}/documents` (query `type`, `from`,
//!   `to`, `include_history`, `limit`), `GET /api/v1/documents/{id}` (raw bytes as stored,
//!   ISO-2022-JP) and `?format=json` (decoded to UTF-8 segments and fields), `GET /healthz`,
//!   `GET /metrics` (Prometheus text format).
//! - [`Reader`] is the only code here that reads patient data; each of its methods takes an
//!   [`hakobune_access::Grant`] and refuses to read anything the grant does not cover.
//! - Errors are RFC 9457 problem documents (`application/problem+json`), mapped in one place
//!   ([`ApiError`]'s `IntoResponse`).
//!
//! Architecture invariant: this crate (with `hakobune-web` later) is the only one that knows HTTP
//! and JSON. Every handler that returns patient data calls `Gate::check` exactly once before it
//! reads, and reads only through [`Reader`].

#![deny(missing_docs)]

mod metrics;
mod reader;
mod routes;

pub use metrics::ApiMetrics;
pub use reader::{ReadError, Reader};
pub use routes::{ApiError, ApiState, router, serve};

#[cfg(test)]
mod tests;
