//! How this server accepts TCP connections: the app's listener and the local stand-ins' alike.

use axum::serve::{ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream};

/// Accepts connections with TCP_NODELAY: streamed pages write in several chunks, and without
/// it each later chunk waits for the client's delayed ACK (about 40 ms on Linux).
pub fn without_nagle(listener: TcpListener) -> TapIo<TcpListener, fn(&mut TcpStream)> {
    fn no_delay(stream: &mut TcpStream) {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
    }
    listener.tap_io(no_delay as fn(&mut TcpStream))
}
