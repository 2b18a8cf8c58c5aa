//! A TCP proxy between a queue and its database server that the test
//! controls: it cuts a connection the moment the client sends a chosen
//! byte string (the server never sees that request and the client never
//! gets an answer: a lost connection during a commit), and it can close,
//! refusing every connection from then on (the server is unreachable).

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct State {
    marker: Vec<u8>,
    closed: AtomicBool,
    cuts: AtomicUsize,
    /// Reads from clients: each request a client sends and then waits on
    /// (a round trip) is one read on loopback.
    requests: AtomicUsize,
    streams: Mutex<Vec<TcpStream>>,
}

/// A running proxy; it closes when dropped.
pub struct CutProxy {
    addr: SocketAddr,
    state: Arc<State>,
}

impl CutProxy {
    /// Listens on a free loopback port and forwards each connection to
    /// `upstream` (`host:port`), cutting it when the client sends `marker`.
    pub fn start(upstream: &str, marker: &[u8]) -> io::Result<CutProxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            marker: marker.to_vec(),
            closed: AtomicBool::new(false),
            cuts: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            streams: Mutex::default(),
        });
        let upstream = upstream.to_string();
        let s = Arc::clone(&state);
        std::thread::spawn(move || accept_until_closed(&listener, &upstream, &s));
        Ok(CutProxy { addr, state })
    }

    /// `server_url` with its `host:port` replaced by the proxy's.
    pub fn url(&self, server_url: &str) -> String {
        let (scheme, rest) = server_url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let user = authority.rsplit_once('@').map_or(String::new(), |(u, _)| format!("{u}@"));
        format!("{scheme}://{user}{}/{path}", self.addr)
    }

    /// How many connections were cut on the marker.
    pub fn cuts(&self) -> usize {
        self.state.cuts.load(Ordering::SeqCst)
    }

    /// How many requests clients sent through the proxy so far (one per
    /// round trip).
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Refuses every new connection and drops every open one.
    pub fn close(&self) {
        self.state.closed.store(true, Ordering::SeqCst);
        for s in self.state.streams.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.close();
    }
}

/// `host:port` of a server URL (`scheme://[user@]host:port/...`).
pub fn authority(server_url: &str) -> String {
    let rest = server_url.split_once("://").map_or(server_url, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once('@').map_or(authority, |(_, h)| h).to_string()
}

fn accept_until_closed(listener: &TcpListener, upstream: &str, state: &Arc<State>) {
    while !state.closed.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let _ = client.set_nonblocking(false);
                let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else { continue };
                {
                    let mut streams = state.streams.lock().unwrap_or_else(|e| e.into_inner());
                    streams.extend(client.try_clone().ok());
                    streams.extend(server.try_clone().ok());
                }
                let s = Arc::clone(state);
                std::thread::spawn(move || forward_until_marker(client, server, &s));
                std::thread::spawn(move || copy_until_closed(s2, c2));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => return,
        }
    }
    // Dropping the listener here closes the port: connections are refused.
}

/// Client to server, cutting both sides when the marker shows up (also
/// across two reads).
fn forward_until_marker(mut client: TcpStream, mut server: TcpStream, state: &State) {
    let keep = state.marker.len().saturating_sub(1);
    let mut tail: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        state.requests.fetch_add(1, Ordering::SeqCst);
        tail.extend_from_slice(&buf[..n]);
        if !state.marker.is_empty() && tail.windows(state.marker.len()).any(|w| w == state.marker) {
            state.cuts.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
        let drop_to = tail.len().saturating_sub(keep);
        tail.drain(..drop_to);
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

fn copy_until_closed(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
