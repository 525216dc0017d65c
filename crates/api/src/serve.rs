//! Serving the API with the defences a public node needs (docs/security.md, "The node under
//! attack"): what holds connections, what bounds slow clients, and the error shape of the
//! answers hyper writes itself.
//!
//! - **Connections** are capped in total and per IP ([`ServeConfig`]); a connection beyond the
//!   cap gets an immediate `503 {"code":"connections_full"}` and is closed, so it costs a few
//!   microseconds and no file descriptor for longer than that.
//! - **Slow clients**: hyper's header-read timeout closes a connection that sends half a header
//!   or sits idle between requests; a request (body read and handler) times out after
//!   `request_timeout` (tower-http); event streams are capped in total and per IP (the handler).
//! - **Floods of submissions** are rate-limited per IP (tower_governor, in `router_with`).
//! - **hyper's own answers** (to a request it cannot parse: 400, 414, 431) have no body; the
//!   connection's writer ([`ShapedIo`]) gives them the `{code, message}` JSON every other error
//!   has. Answers from the router always carry a content type, so they are never touched.

use axum::{Router, extract::ConnectInfo};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::{
    collections::HashMap,
    future::Future,
    io,
    net::{IpAddr, SocketAddr},
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tower::ServiceExt;

/// The limits a served node applies. `Default` gives the values for a public node.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Open connections at most.
    pub connections_max: usize,
    /// Open connections from one IP address at most.
    pub connections_per_ip_max: usize,
    /// Open event streams (`/v1/events`) at most.
    pub event_streams_max: usize,
    /// Open event streams from one IP address at most.
    pub event_streams_per_ip_max: usize,
    /// Time a client has to send a request's headers, counted from the connection's start or
    /// the end of the previous response (so it also closes idle keep-alive connections).
    pub header_read_timeout: Duration,
    /// Time a request has to be read and answered (not counting a streamed response body).
    pub request_timeout: Duration,
    /// `POST /v1/tx` and `/v1/dry-run` requests per second from one IP; 0 for no limit.
    pub submissions_per_ip_per_second: u32,
    /// `POST /v1/txs` batches per second from one IP; 0 for no limit.
    pub batches_per_ip_per_second: u32,
    /// Dry-runs running or waiting for their turn at once; more are refused with
    /// `503 dry_runs_busy` (they take turns on one copy of the state, each on a blocking
    /// thread: without a bound, a flood of them would hold every blocking thread).
    pub dry_runs_max: usize,
}

/// Open connections at most, by default.
pub const CONNECTIONS_MAX_DEFAULT: usize = 4_096;
/// Open connections per IP address at most, by default.
pub const CONNECTIONS_PER_IP_MAX_DEFAULT: usize = 256;
/// Event streams at most, by default.
pub const EVENT_STREAMS_MAX_DEFAULT: usize = 1_024;
/// Event streams per IP address at most, by default.
pub const EVENT_STREAMS_PER_IP_MAX_DEFAULT: usize = 16;
/// `POST /v1/tx` and `/v1/dry-run` requests per second per IP address, by default.
pub const SUBMISSIONS_PER_IP_PER_SECOND_DEFAULT: u32 = 500;
/// `POST /v1/txs` batches per second per IP address, by default.
pub const BATCHES_PER_IP_PER_SECOND_DEFAULT: u32 = 5;
/// Dry-runs running or waiting at once, by default.
pub const DRY_RUNS_MAX_DEFAULT: usize = 8;
/// The largest request head (request line and headers) hyper reads.
pub const REQUEST_HEAD_BYTES_MAX: usize = 32 * 1024;
/// The longest head hyper writes for its own error answers (status line, length, date).
const AUTOMATIC_ERROR_BYTES_MAX: usize = 256;
/// How long a refused connection is given to read its `503` before it is closed.
const REFUSAL_GRACE: Duration = Duration::from_millis(500);
/// The pause after a failed `accept` (out of file descriptors): the loop must not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// How long shutting down waits for open requests (event streams never end by themselves).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

impl Default for ServeConfig {
    fn default() -> ServeConfig {
        ServeConfig {
            connections_max: CONNECTIONS_MAX_DEFAULT,
            connections_per_ip_max: CONNECTIONS_PER_IP_MAX_DEFAULT,
            event_streams_max: EVENT_STREAMS_MAX_DEFAULT,
            event_streams_per_ip_max: EVENT_STREAMS_PER_IP_MAX_DEFAULT,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            submissions_per_ip_per_second: SUBMISSIONS_PER_IP_PER_SECOND_DEFAULT,
            batches_per_ip_per_second: BATCHES_PER_IP_PER_SECOND_DEFAULT,
            dry_runs_max: DRY_RUNS_MAX_DEFAULT,
        }
    }
}

/// A count of open things (connections, event streams) in total and per IP address.
#[derive(Debug)]
pub(crate) struct Quota {
    total_max: usize,
    per_ip_max: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One open thing; dropping it frees its place.
#[derive(Debug)]
pub(crate) struct QuotaPermit {
    quota: Arc<Quota>,
    ip: IpAddr,
}

impl Quota {
    pub(crate) fn new(total_max: usize, per_ip_max: usize) -> Arc<Quota> {
        Arc::new(Quota { total_max, per_ip_max, open: Mutex::new((0, HashMap::new())) })
    }

    /// A place for `ip`, or `None` when the total or its share is taken.
    pub(crate) fn try_acquire(self: &Arc<Quota>, ip: IpAddr) -> Option<QuotaPermit> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let (total, per_ip) = &mut *open;
        let mine = per_ip.entry(ip).or_default();
        if *total >= self.total_max || *mine >= self.per_ip_max {
            if *mine == 0 {
                per_ip.remove(&ip);
            }
            return None;
        }
        *mine += 1;
        *total += 1;
        Some(QuotaPermit { quota: self.clone(), ip })
    }

    /// How many are open.
    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).0
    }
}

impl Drop for QuotaPermit {
    fn drop(&mut self) {
        let mut open = self.quota.open.lock().unwrap_or_else(PoisonError::into_inner);
        let (total, per_ip) = &mut *open;
        *total -= 1;
        if let Some(mine) = per_ip.get_mut(&self.ip) {
            *mine -= 1;
            if *mine == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` with `config`'s limits until `shutdown` resolves.
pub async fn serve_router(
    app: Router,
    listener: TcpListener,
    config: &ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let connections = Quota::new(config.connections_max, config.connections_per_ip_max);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(permit) = connections.try_acquire(peer.ip()) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .max_buf_size(REQUEST_HEAD_BYTES_MAX.max(8_192) * 4)
            .max_header_size(REQUEST_HEAD_BYTES_MAX)
            .writev(false);
        let connection = builder.serve_connection(ShapedIo::new(TokioIo::new(stream)), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection ends with an error when its client goes away or times out:
            // nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    Ok(())
}

/// Answers a connection beyond the caps with a JSON 503 and closes it, after giving the client
/// a moment to read it (closing with unread request bytes would reset the connection first).
async fn refuse(mut stream: TcpStream) {
    let body = error_json(
        "connections_full",
        "The node serves as many connections as it allows (in total or from your address); \
         retry later.",
    );
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_GRACE, async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 1_024];
        while stream.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}

/// `{"code": ..., "message": ...}`: the [`crate::dto::ErrorBody`] every answer carries.
pub(crate) fn error_json(code: &str, message: &str) -> String {
    serde_json::to_string(&crate::dto::ErrorBody::new(code, message))
        .unwrap_or_else(|_| String::from("{}"))
}

/// The code and sentence of an answer hyper writes itself, by status.
fn automatic_error(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("request_malformed", "The request is not valid HTTP/1.1."),
        414 => ("uri_too_long", "The request's URI is longer than the node reads."),
        431 => ("headers_too_large", "The request's headers are larger than the node reads."),
        505 => ("http_version_not_supported", "The node speaks HTTP/1.1."),
        _ => ("request_refused", "The node could not take this request."),
    }
}

/// If `bytes` are a whole response head that hyper wrote for a request it could not parse (an
/// error status, no content type, an empty body), the same answer with a JSON body.
fn shape_automatic_error(bytes: &[u8]) -> Option<Vec<u8>> {
    // hyper's own answers are a short head only; anything else is not looked at further.
    if bytes.len() > AUTOMATIC_ERROR_BYTES_MAX || !matches!(bytes.get(9), Some(b'4' | b'5')) {
        return None;
    }
    let head = std::str::from_utf8(bytes).ok()?;
    let rest = head.strip_prefix("HTTP/1.1 ").or_else(|| head.strip_prefix("HTTP/1.0 "))?;
    let status: u16 = rest.get(..3)?.parse().ok()?;
    if status < 400 || !head.ends_with("\r\n\r\n") || head.matches("\r\n\r\n").count() != 1 {
        return None;
    }
    let lower = head.to_ascii_lowercase();
    if lower.contains("\r\ncontent-type:") || !lower.contains("\r\ncontent-length: 0\r\n") {
        return None;
    }
    let reason = rest.lines().next().unwrap_or_default().get(4..).unwrap_or_default();
    let (code, message) = automatic_error(status);
    let body = error_json(code, message);
    let shaped = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    Some(shaped.into_bytes())
}

/// A connection's transport that rewrites hyper's own error answers as JSON (see the module
/// doc); everything else passes through untouched.
pub(crate) struct ShapedIo<I> {
    inner: I,
    /// A rewritten answer being written: its bytes, how many are written, and the length of
    /// the original that hyper is told was written.
    rewriting: Option<(Vec<u8>, usize, usize)>,
}

impl<I> ShapedIo<I> {
    pub(crate) fn new(inner: I) -> ShapedIo<I> {
        ShapedIo { inner, rewriting: None }
    }
}

impl<I: hyper::rt::Read + Unpin> hyper::rt::Read for ShapedIo<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: hyper::rt::Write + Unpin> hyper::rt::Write for ShapedIo<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.rewriting.is_none() {
            match shape_automatic_error(buf) {
                Some(shaped) => this.rewriting = Some((shaped, 0, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        let Some((shaped, written, original)) = this.rewriting.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while *written < shaped.len() {
            match Pin::new(&mut this.inner).poll_write(cx, &shaped[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let original = *original;
        this.rewriting = None;
        Poll::Ready(Ok(original))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The peer's IP address (from the connection; unspecified when served some other way).
pub(crate) struct PeerIp(pub(crate) IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<PeerIp, std::convert::Infallible> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |info| info.0.ip());
        Ok(PeerIp(ip))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests fail loudly by design.
mod tests {
    use super::*;

    #[test]
    fn hypers_bodiless_error_answers_get_a_json_body_and_ours_are_untouched() {
        let hyper_400 = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let shaped = String::from_utf8(shape_automatic_error(hyper_400).unwrap()).unwrap();
        assert!(shaped.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{shaped}");
        assert!(shaped.contains("content-type: application/json"), "{shaped}");
        let body: serde_json::Value =
            serde_json::from_str(shaped.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(body["code"], "request_malformed");
        let ours = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n";
        assert!(shape_automatic_error(ours).is_none(), "answers with a content type are ours");
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        assert!(shape_automatic_error(with_body).is_none());
        let fine = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(shape_automatic_error(fine).is_none());
    }

    #[test]
    fn a_quota_holds_its_total_and_each_address_to_its_share_and_frees_places_on_drop() {
        let quota = Quota::new(3, 2);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = quota.try_acquire(a).unwrap();
        let _second = quota.try_acquire(a).unwrap();
        assert!(quota.try_acquire(a).is_none(), "a's share is two");
        let _third = quota.try_acquire(b).unwrap();
        assert!(quota.try_acquire(b).is_none(), "the total is three");
        drop(first);
        let _fourth = quota.try_acquire(b).unwrap();
        assert_eq!(quota.open(), 3);
    }
}
