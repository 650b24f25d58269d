//! A fake AI system of the tests' own: a raw TCP server speaking just enough HTTP/1.1 to be an
//! OpenAI-compatible endpoint, and to misbehave on purpose. It records every request it
//! receives, so that a test can prove a refused prompt never reached it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the fake answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// A chat completion (an SSE stream of [`STREAM`] when the request asks `stream: true`), or
    /// an embedding.
    Answer,
    /// Reads the request, then says nothing, ever.
    Hang,
    /// Answers bytes that are not HTTP.
    Garbage,
    /// Begins a streamed answer and never ends it: a chunk every 20 ms until the connection
    /// is closed.
    Endless,
    /// Begins a streamed answer, sends one chunk, then pauses without closing.
    Stall,
    /// Answers 401, as to a wrong credential.
    Unauthorized,
}

/// A request received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line, e.g. `POST /v1/chat/completions HTTP/1.1`.
    pub line: String,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// The SSE answer of a streamed completion, byte for byte.
pub const STREAM: &[&str] = &[
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hej\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" från modellen\"},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    "data: [DONE]\n\n",
];

/// The fake, listening.
#[derive(Clone)]
pub struct Fake {
    pub addr: std::net::SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub mode: Arc<Mutex<Mode>>,
    /// Connections whose answer ended because the gateway closed them.
    pub closed_by_peer: Arc<AtomicUsize>,
    pub stop: Arc<AtomicBool>,
}

impl Fake {
    pub async fn start(mode: Mode) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = Fake {
            addr: listener.local_addr().unwrap(),
            received: Arc::default(),
            mode: Arc::new(Mutex::new(mode)),
            closed_by_peer: Arc::default(),
            stop: Arc::default(),
        };
        let serving = fake.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let fake = serving.clone();
                tokio::spawn(async move { fake.connection(stream).await });
            }
        });
        fake
    }

    /// The endpoint to write in the register.
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    async fn connection(&self, mut stream: TcpStream) {
        // One request a connection is enough; keep-alive is served by reading on.
        loop {
            let Some(received) = read_request(&mut stream).await else {
                return;
            };
            let stream_asked = serde_json::from_str::<serde_json::Value>(&received.body)
                .ok()
                .and_then(|v| v.get("stream").and_then(serde_json::Value::as_bool))
                .unwrap_or(false);
            let embeddings = received.line.contains("/embeddings");
            self.received.lock().unwrap().push(received);
            let mode = self.mode.lock().unwrap().clone();
            let written = match mode {
                Mode::Answer if embeddings => {
                    let body = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"model":"e","usage":{"prompt_tokens":1,"total_tokens":1}}"#;
                    write_json(&mut stream, body).await
                }
                Mode::Answer if stream_asked => {
                    let mut result = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nx-aipolicy-decision-id: forged\r\n\r\n")
                        .await;
                    for event in STREAM {
                        if result.is_ok() {
                            result = write_chunk(&mut stream, event.as_bytes()).await;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                    }
                    if result.is_ok() {
                        result = stream.write_all(b"0\r\n\r\n").await;
                    }
                    result
                }
                Mode::Answer => {
                    let body = r#"{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hej från modellen"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}"#;
                    write_json(&mut stream, body).await
                }
                Mode::Unauthorized => {
                    let body = r#"{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}"#;
                    let head = format!("HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
                    stream.write_all(format!("{head}{body}").as_bytes()).await
                }
                Mode::Hang => {
                    while !self.stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    return;
                }
                Mode::Garbage => {
                    let _ = stream
                        .write_all(b"\x00\x01garbage, not HTTP at all\r\n\r\n")
                        .await;
                    return;
                }
                Mode::Endless => {
                    let mut result = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
                        .await;
                    while result.is_ok() {
                        result = write_chunk(&mut stream, STREAM[1].as_bytes()).await;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    self.closed_by_peer.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                Mode::Stall => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
                        .await;
                    let _ = write_chunk(&mut stream, STREAM[0].as_bytes()).await;
                    while !self.stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    return;
                }
            };
            if written.is_err() {
                return;
            }
        }
    }
}

async fn write_json(stream: &mut TcpStream, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(format!("{head}{body}").as_bytes()).await
}

async fn write_chunk(stream: &mut TcpStream, data: &[u8]) -> std::io::Result<()> {
    stream
        .write_all(format!("{:x}\r\n", data.len()).as_bytes())
        .await?;
    stream.write_all(data).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await
}

/// Reads one request (headers and a `Content-Length` body); `None` when the connection ends.
async fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Received {
        line,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    })
}
