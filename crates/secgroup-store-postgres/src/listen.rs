//! Learning of changes without polling: `LISTEN` on [`REVISION_CHANNEL`], which every
//! committed write notifies (see `store.rs`).

use std::time::Duration;

use fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use crate::store::REVISION_CHANNEL;

/// Calls `on_change` (with the notified revision) whenever a write commits on the database
/// at `url`, from a thread of its own that runs as long as the process. A lost connection
/// is made again after a second; notifications sent meanwhile are missed, so a listener
/// also polls the revision now and then (the agent does).
pub fn listen_revisions(url: &str, on_change: impl Fn(u64) + Send + 'static) {
    let url = url.to_owned();
    let _ = std::thread::Builder::new()
        .name("secgroup-pg-listen".to_owned())
        .spawn(move || loop {
            if let Ok(mut client) = Client::connect(&url, NoTls) {
                if client
                    .batch_execute(&format!("LISTEN {REVISION_CHANNEL}"))
                    .is_ok()
                {
                    // Something may have changed while no one listened.
                    on_change(0);
                    let mut notifications = client.notifications();
                    let mut stream = notifications.timeout_iter(Duration::from_secs(5));
                    loop {
                        match stream.next() {
                            Ok(Some(n)) => on_change(n.payload().parse().unwrap_or(0)),
                            Ok(None) => continue,
                            Err(_) => break,
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_secs(1));
        });
}
