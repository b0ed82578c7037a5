//! The MLLP receiver.
//!
//! Brief overview:
//! - [`serve_mllp`] accepts connections on a bound listener (at most `max_connections` at once),
//!   reads MLLP frames, and answers each with an HL7 ACK. Idle connections and connections that
//!   drip a frame too slowly are closed. On shutdown it stops accepting, lets every connection
//!   finish the message it is handling, and returns when all have closed.
//! - [`Ingest::process`] is the whole pipeline for one message: strict ISO-2022-JP decoding →
//!   HL7 parse → sending facility by MSH-4 → SS-MIX2 classification (`hakobune-ssmix2`) → JIS X
//!   0208 policy → [`hakobune_store::Store::submit`] (durable) → ACK. Anything that is not stored
//!   is kept in the quarantine with its reason before the sender hears AE or AR.
//!
//! ACK codes: AA stored (or already stored: a duplicate); AE the content is wrong (encoding,
//! missing patient ID, bad 診療日 …), resending it unchanged will fail again; AR the message was
//! refused for reasons outside its content (not HL7, unknown sender, unsupported type or version,
//! or the appliance cannot store right now: retry later). Every AE/AR carries ERR segments with
//! the HL7 location, the table 0357 code, an English diagnostic and a Japanese user message.
//!
//! Architecture invariant: no AA leaves this crate before `Store::submit` has returned `Ok`, i.e.
//! before the message is in the fsync'd write-ahead log.

#![deny(missing_docs)]

mod metrics;
mod pipeline;
mod server;

pub use metrics::IngestMetrics;
pub use pipeline::{Ingest, IngestOptions, Processed};
pub use server::{ServerLimits, serve_mllp, serve_mllp_tls};

#[cfg(test)]
mod tests;
