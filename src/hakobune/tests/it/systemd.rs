//! systemd integration through a real notification socket: READY=1 only once the server accepts,
//! WATCHDOG=1 while the storage engine answers, STOPPING=1 at the orderly stop.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::harness::*;

fn messages(sock: &UnixDatagram, until: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && !until(&seen) {
        if let Ok(n) = sock.recv(&mut buf) {
            seen.extend(String::from_utf8_lossy(&buf[..n]).lines().map(str::to_owned));
        }
    }
    seen
}

#[test]
fn ready_watchdog_and_stopping_are_sent_at_the_right_moments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let path = path.to_str().unwrap().to_owned();
    let mut server = Server::start_with_env("", "", &[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "1000000")]);
    // By the time the harness saw the "accepting" log line, READY=1 is on its way.
    let seen = messages(&sock, |m| m.iter().filter(|l| *l == "WATCHDOG=1").count() >= 2);
    let ready = seen.iter().position(|l| l == "READY=1").expect("READY=1 was not sent");
    let first_watchdog = seen.iter().position(|l| l == "WATCHDOG=1").expect("WATCHDOG=1 was not sent");
    assert!(ready < first_watchdog, "{seen:?}");
    assert!(std::net::TcpStream::connect(server.mllp).is_ok());
    assert!(server.stop().success());
    let seen = messages(&sock, |m| m.iter().any(|l| l == "STOPPING=1"));
    assert!(seen.iter().any(|l| l == "STOPPING=1"), "{seen:?}");
}
