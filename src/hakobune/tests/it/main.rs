//! Integration tests: the real `hakobune` binary on loopback, spoken to over real MLLP and HTTP.
//!
//! Slow suites (many kill -9 cycles) run when `HAKOBUNE_SLOW_TESTS=1`.

mod harness;

mod appliance_files;
mod bad_input;
mod cli;
mod crash;
mod demo;
mod firstboot;
mod health;
mod samples;
mod systemd;
mod third_party;
mod tls;
mod ups;
