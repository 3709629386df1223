//! gearmand's HTTP protocol (`-r http --http-port P`): anything that speaks HTTP submits jobs.
//! `POST /FUNCTION` (also GET and PUT; the body is the workload) runs a foreground job and
//! answers with its result; `X-Gearman-Background: true` queues a background job and answers
//! with its handle; `X-Gearman-Unique` and `X-Gearman-Priority: high|low` as in gearmand.
//!
//! Each request is a client of the engine for as long as it waits, through a [`Sink`] that
//! collects the engine's replies; HTTP itself is hyper's. Where gearmand 1.1.20 answers the
//! same, so do we (status, reason, `X-Gearman-*` headers, bodies); where it is silent or wrong
//! we answer clearly instead (see README, HTTP): a 405 for other methods (gearmand closes with
//! no bytes), every WORK_DATA in the body before the result (gearmand writes them over the
//! start of the response), WORK_STATUS ignored (gearmand ends the response on it and loses the
//! result), and HTTP/1.1 keep-alive.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use gearman_core::job::Priority;
use gearman_core::message::{Request, Response};
use gearman_core::protocol::{Decoder, Frame};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE, SERVER};
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

use crate::engine::Next;
use crate::output::MemorySink;
use crate::server::{accept_each, lock, ConnectionGuard, Limits, SharedEngine, Stop};

/// gearmand's default `--http-port`.
pub const DEFAULT_PORT: u16 = 8080;

/// How long a client may take to send its request head, and then its body.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

type HttpResponse = hyper::Response<Full<Bytes>>;

/// gearmand's `Server: Gearman/<version>`, made once.
static SERVER_HEADER: std::sync::LazyLock<HeaderValue> = std::sync::LazyLock::new(|| {
    HeaderValue::from_str(&format!("Gearman/{}", crate::VERSION_STRING))
        .expect("the version is ASCII")
});

/// What every HTTP task shares.
struct Shared {
    engine: SharedEngine,
    limits: Arc<Limits>,
    next_id: Arc<AtomicU64>,
}

/// Serves HTTP on `listener` until the server stops.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    engine: SharedEngine,
    limits: Arc<Limits>,
    slots: Arc<Semaphore>,
    next_id: Arc<AtomicU64>,
    stop: Arc<watch::Sender<Stop>>,
) {
    let shared = Arc::new(Shared {
        engine,
        limits,
        next_id,
    });
    accept_each(listener, slots, &stop, move |stream, peer| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
        serve(stream, peer, shared.clone())
    })
    .await;
}

async fn serve(stream: tokio::net::TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let service = hyper::service::service_fn(move |request| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(handle(request, peer, &shared).await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        // The request head, as the admin protocol's lines are, is capped.
        .max_header_size(64 * 1024)
        .keep_alive(true)
        // As gearmand writes them: X-Gearman-Job-Handle, no Date.
        .title_case_headers(true)
        .auto_date_header(false)
        .max_headers(100)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "HTTP connection ended");
    }
}

/// A response with gearmand's `Server` header.
fn response(status: StatusCode, reason: Option<&'static str>, body: Bytes) -> HttpResponse {
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Some(reason) = reason {
        response
            .extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(reason.as_bytes()));
    }
    response.headers_mut().insert(SERVER, SERVER_HEADER.clone());
    response
}

/// An error answer with its reason in the body, as text.
fn refusal(status: StatusCode, text: impl Into<String>) -> HttpResponse {
    let mut r = response(status, None, Bytes::from(text.into() + "\n"));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

fn header<'a>(request: &'a hyper::Request<Incoming>, name: &str) -> Option<&'a [u8]> {
    request.headers().get(name).map(|v| v.as_bytes())
}

async fn handle(
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    shared: &Shared,
) -> HttpResponse {
    let method = request.method().clone();
    if method == Method::TRACE {
        return trace(&request);
    }
    if ![Method::GET, Method::POST, Method::PUT, Method::HEAD].contains(&method) {
        let mut r = refusal(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not a Gearman HTTP method: use POST /FUNCTION"),
        );
        r.headers_mut().insert(
            ALLOW,
            HeaderValue::from_static("GET, POST, PUT, HEAD, TRACE"),
        );
        return r;
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or("", |p| p.as_str())
        .trim_start_matches('/')
        .to_string();
    if target.is_empty() {
        // gearmand's answer, status line and all.
        return response(StatusCode::NOT_FOUND, Some("NOT_FOUND"), Bytes::new());
    }
    if target.len() > gearman_core::FUNCTION_MAX_SIZE {
        return refusal(
            StatusCode::URI_TOO_LONG,
            format!(
                "a function name has at most {} bytes",
                gearman_core::FUNCTION_MAX_SIZE
            ),
        );
    }
    let unique = Bytes::copy_from_slice(header(&request, "x-gearman-unique").unwrap_or(b"-"));
    let background =
        header(&request, "x-gearman-background").is_some_and(|v| v.eq_ignore_ascii_case(b"true"));
    let priority = match header(&request, "x-gearman-priority") {
        Some(v) if v.eq_ignore_ascii_case(b"high") => Priority::High,
        Some(v) if v.eq_ignore_ascii_case(b"low") => Priority::Low,
        _ => Priority::Normal,
    };
    let limit = shared.limits.max_payload;
    let body = Limited::new(request.into_body(), limit).collect();
    let data = match tokio::time::timeout(READ_TIMEOUT, body).await {
        Ok(Ok(body)) => body.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the workload is larger than --max-packet-size ({limit} bytes)"),
            )
        }
        Ok(Err(e)) => return refusal(StatusCode::BAD_REQUEST, format!("bad body: {e}")),
        Err(_) => {
            return refusal(
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            )
        }
    };
    let job = Request::SubmitJob {
        function: Bytes::from(target),
        unique,
        data,
        priority,
        background,
    };
    let mut answer = run_job(job, peer, shared).await;
    if method == Method::HEAD {
        // gearmand's HEAD: the handle and the length of what GET would have sent.
        let length = answer.body().size_hint().exact().unwrap_or(0);
        answer.headers_mut().remove("x-gearman-command");
        answer
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
        *answer.body_mut() = Full::new(Bytes::new());
    }
    answer
}

/// TRACE: the request head back, as `message/http` (gearmand echoes what it read).
fn trace(request: &hyper::Request<Incoming>) -> HttpResponse {
    let mut head = format!(
        "{} {} {:?}\r\n",
        request.method(),
        request.uri(),
        request.version()
    );
    for (name, value) in request.headers() {
        head += &format!("{name}: {}\r\n", String::from_utf8_lossy(value.as_bytes()));
    }
    let mut r = response(StatusCode::OK, None, Bytes::from(head));
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("message/http"));
    r
}

/// Submits `job` as a client of its own and waits for its answer.
async fn run_job(job: Request, peer: SocketAddr, shared: &Shared) -> HttpResponse {
    let background = matches!(
        job,
        Request::SubmitJob {
            background: true,
            ..
        }
    );
    let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let replies = MemorySink::new();
    let _registration = ConnectionGuard::connect(&shared.engine, id, -1, peer, replies.clone());
    let next = lock(&shared.engine).request(id, job);
    if let Next::Stored { no, done } = next {
        if !matches!(done.await, Ok(true)) {
            lock(&shared.engine).store_failed(no);
        }
    }
    let decoder = Decoder::for_client().max_payload(shared.limits.max_payload);
    let mut handle = Bytes::new();
    let mut body = BytesMut::new();
    loop {
        // The engine appends whole packets, so what was taken decodes completely.
        let mut taken = BytesMut::from(&replies.take()[..]);
        while let Ok(Some(Frame::Packet(packet))) = decoder.decode(&mut taken) {
            let Ok(reply) = Response::from_packet(packet) else {
                continue;
            };
            match reply {
                Response::JobCreated { handle: h } => {
                    if background {
                        return answer(&h, "JOB_CREATED", Bytes::new());
                    }
                    handle = h;
                }
                Response::WorkData { data, .. } => body.extend_from_slice(&data),
                Response::WorkComplete { data, .. } => {
                    body.extend_from_slice(&data);
                    return answer(&handle, "WORK_COMPLETE", body.freeze());
                }
                Response::WorkFail { .. } => return answer(&handle, "WORK_FAIL", Bytes::new()),
                Response::WorkException { data, .. } => {
                    return answer(&handle, "WORK_EXCEPTION", data)
                }
                Response::Error { code, text } => {
                    return refusal(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!(
                            "{}: {}",
                            String::from_utf8_lossy(&code),
                            String::from_utf8_lossy(&text)
                        ),
                    )
                }
                // WORK_STATUS, WORK_WARNING: nothing an HTTP answer can carry midway.
                _ => {}
            }
        }
        if replies.is_closed() {
            return refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the job server is stopping",
            );
        }
        replies.changed().await;
    }
}

fn answer(handle: &[u8], command: &'static str, body: Bytes) -> HttpResponse {
    let mut r = response(StatusCode::OK, None, body);
    let headers = r.headers_mut();
    if let Ok(handle) = HeaderValue::from_bytes(handle) {
        headers.insert("x-gearman-job-handle", handle);
    }
    headers.insert("x-gearman-command", HeaderValue::from_static(command));
    r
}
