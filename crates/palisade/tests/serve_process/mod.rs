//! A `palisade serve --self-signed 127.0.0.1` process for the tests that run the webhook, and a
//! plain blocking HTTP/1.1 client over rustls on loopback that trusts its certificate.
// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A running `palisade serve` and a TLS configuration that trusts it; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    tls: Arc<ClientConfig>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

pub fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// Starts `palisade serve --self-signed 127.0.0.1 --addr <free port> ARGS` with its logs going
/// to `stderr`, and waits until `/healthz` answers.
pub fn start(args: &[&str], stderr: Stdio) -> Server {
    let addr = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["serve", "--self-signed", "127.0.0.1"])
        .args(["--addr", &addr.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    // The first line on standard output is the CA bundle, in base64.
    let mut bundle = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut bundle)
        .unwrap();
    let ca = base64::engine::general_purpose::STANDARD
        .decode(bundle.trim())
        .expect("the CA bundle is base64");
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&ca) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server = Server {
        child,
        addr,
        tls: Arc::new(tls),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.get("/healthz").map(|r| r.status).ok() != Some(200) {
        assert!(Instant::now() < deadline, "the server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

impl Server {
    /// A TLS connection to the server.
    pub fn connect(&self) -> std::io::Result<Tls> {
        let tcp = TcpStream::connect(self.addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
        let name = ServerName::try_from("127.0.0.1").unwrap();
        let connection = ClientConnection::new(self.tls.clone(), name)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(StreamOwned::new(connection, tcp))
    }

    /// One request on a connection of its own.
    pub fn request(&self, method: &str, path: &str, body: &str) -> std::io::Result<Answer> {
        let mut tls = self.connect()?;
        send(&mut tls, method, path, body)?;
        receive(&mut tls)
    }

    pub fn get(&self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, "")
    }
}

/// Writes one HTTP/1.1 request with a JSON body.
pub fn send(tls: &mut Tls, method: &str, path: &str, body: &str) -> std::io::Result<()> {
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())?;
    tls.flush()
}

/// Reads one HTTP/1.1 answer with a content-length.
pub fn receive(tls: &mut Tls) -> std::io::Result<Answer> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    tls.read_exact(&mut body)?;
    Ok(Answer {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
