//! Driving the client, worker and admin futures without a runtime, for the blocking facades.
//!
//! [`block_on`] polls a future with a no-op waker on the caller's thread. While the future is
//! pending, the thread sleeps in one `poll(2)` on the sockets it found unready and the earliest
//! deadline it set. Sockets made inside `block_on` are plain non-blocking std sockets.
//!
//! Why not a current-thread tokio runtime: its scheduler, timer wheel and waker bookkeeping cost
//! more per wait than the wait's own system calls, its epoll instance is shared with a parent
//! across `fork()`, and it resolves host names on a helper thread. Here a wait costs the same
//! system calls as libgearman's (a read, a poll, a read), no thread is ever started, and a child
//! that inherits a facade shares nothing with its parent but the socket descriptors.
//!
//! Outside `block_on` (under tokio), the same code uses tokio's sockets and timers: see
//! [`active`], [`timeout_at`].

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io::{self, Write};
use std::mem::MaybeUninit;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What the pending future waits for.
#[derive(Default)]
struct Interest {
    fds: Vec<libc::pollfd>,
    deadline: Option<Instant>,
}

thread_local! {
    /// `Some` while [`block_on`] runs on this thread.
    static INTEREST: RefCell<Option<Interest>> = const { RefCell::new(None) };
}

/// Whether the current thread is inside [`block_on`].
pub fn active() -> bool {
    INTEREST.with(|i| i.borrow().is_some())
}

/// Runs `future` to completion on this thread, sleeping in `poll(2)` while it waits.
pub fn block_on<F: Future>(future: F) -> F::Output {
    match drive(future, None::<NeverStops>) {
        Ok(output) => output,
        Err(stopped) => match stopped {},
    }
}

/// When [`block_on_until`] gives up on a future: at a deadline, or when a check says so (a
/// query cancelled in the database that called). The check runs after every wake-up and at
/// least every `tick`, so a cancel that sends no signal is still seen within a tick.
pub struct StopWhen<'a> {
    pub deadline: Option<Instant>,
    pub tick: Duration,
    pub cancelled: &'a mut dyn FnMut() -> bool,
}

/// Why [`block_on_until`] gave up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    TimedOut,
    Cancelled,
}

/// Never happens: [`block_on`] has no way to stop.
enum NeverStops {}

/// [`block_on`] that may give up (see [`StopWhen`]); the future is dropped then, possibly in
/// the middle of an exchange, so whatever it drove (a client) should be discarded.
pub fn block_on_until<F: Future>(future: F, stop: StopWhen<'_>) -> Result<F::Output, Stopped> {
    drive(future, Some(stop))
}

trait StopCheck {
    type Reason;
    /// The latest instant to wake up at to check again.
    fn wake_by(&self) -> Option<Instant>;
    fn check(&mut self) -> Result<(), Self::Reason>;
}

impl StopCheck for Option<StopWhen<'_>> {
    type Reason = Stopped;
    fn wake_by(&self) -> Option<Instant> {
        let stop = self.as_ref()?;
        let tick = deadline_after(stop.tick);
        match (stop.deadline, tick) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
    fn check(&mut self) -> Result<(), Stopped> {
        let Some(stop) = self.as_mut() else {
            return Ok(());
        };
        if (stop.cancelled)() {
            return Err(Stopped::Cancelled);
        }
        if stop.deadline.is_some_and(|at| Instant::now() >= at) {
            return Err(Stopped::TimedOut);
        }
        Ok(())
    }
}

fn drive<F: Future, S: StopCheck>(future: F, mut stop: S) -> Result<F::Output, S::Reason> {
    /// Puts back an enclosing `block_on`'s state, also when the future panics.
    struct Restore(Option<Interest>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            INTEREST.with(|i| *i.borrow_mut() = outer);
        }
    }
    let _restore = Restore(INTEREST.with(|i| i.replace(Some(Interest::default()))));
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Ok(output);
        }
        let wake_by = stop.wake_by();
        INTEREST.with(|i| {
            if let Some(interest) = i.borrow_mut().as_mut() {
                if let Some(at) = wake_by {
                    interest.deadline = Some(interest.deadline.map_or(at, |d| d.min(at)));
                }
                sleep_until_ready(interest);
                interest.fds.clear();
                interest.deadline = None;
            }
        });
        stop.check()?;
    }
}

impl StopCheck for Option<NeverStops> {
    type Reason = NeverStops;
    fn wake_by(&self) -> Option<Instant> {
        None
    }
    fn check(&mut self) -> Result<(), NeverStops> {
        Ok(())
    }
}

fn sleep_until_ready(interest: &mut Interest) {
    let timeout_ms = match interest.deadline {
        // Rounded up: waking before the deadline would only poll again for nothing.
        Some(at) => at
            .saturating_duration_since(Instant::now())
            .as_micros()
            .div_ceil(1000)
            .min(i32::MAX as u128) as libc::c_int,
        None if interest.fds.is_empty() => {
            // Nothing registered: a future waiting on something this driver cannot see.
            // Look again soon rather than sleep forever.
            tracing::trace!("pending future registered no interest");
            10
        }
        None => -1,
    };
    // SAFETY: the pointer and length describe the live `fds` vector; poll(2) writes only
    // the `revents` fields within it. EINTR and other failures just lead to another poll of
    // the future, which registers its interest again.
    unsafe {
        libc::poll(
            interest.fds.as_mut_ptr(),
            interest.fds.len() as libc::nfds_t,
            timeout_ms,
        );
    }
}

fn register(fd: libc::c_int, events: libc::c_short) {
    INTEREST.with(|i| {
        if let Some(interest) = i.borrow_mut().as_mut() {
            match interest.fds.iter_mut().find(|p| p.fd == fd) {
                Some(entry) => entry.events |= events,
                None => interest.fds.push(libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                }),
            }
        }
    });
}

fn register_deadline(at: Instant) {
    INTEREST.with(|i| {
        if let Some(interest) = i.borrow_mut().as_mut() {
            interest.deadline = Some(interest.deadline.map_or(at, |d| d.min(at)));
        }
    });
}

/// Runs `future` until `deadline`; `None` if the deadline passed first. Under tokio (outside
/// [`block_on`]) a future that is ready at once costs no timer.
///
/// Inside [`block_on`], a deadline that has passed still lets the sockets be checked once
/// (a zero-timeout poll(2)), so a zero timeout reports what has already arrived, as a
/// non-blocking call should.
pub async fn timeout_at<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    if !active() {
        if let Poll::Ready(output) = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
            return Some(output);
        }
        return tokio::time::timeout_at(deadline.into(), future).await.ok();
    }
    let mut checked_after_deadline = false;
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        if Instant::now() >= deadline {
            if checked_after_deadline {
                return Poll::Ready(None);
            }
            checked_after_deadline = true;
        }
        register_deadline(deadline);
        Poll::Pending
    })
    .await
}

/// [`timeout_at`] `limit` from now; a limit too large to represent waits without one.
pub async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    match deadline_after(limit) {
        Some(deadline) => timeout_at(deadline, future).await,
        None => Some(future.await),
    }
}

/// The instant `limit` from now, or `None` when that is beyond what `Instant` can hold.
pub fn deadline_after(limit: Duration) -> Option<Instant> {
    Instant::now().checked_add(limit)
}

/// Connects a blocking-facade socket: every resolved address in turn within `limit`, then
/// TCP_NODELAY and non-blocking mode. The host name is resolved on the caller's thread, as
/// libgearman does (no thread may be started); the time that takes counts against `limit`, but
/// a resolver slower than `limit` is only noticed once it answers.
pub(crate) fn connect(host: &str, port: u16, limit: Duration) -> io::Result<TcpStream> {
    let deadline = deadline_after(limit);
    let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "connect timed out");
    let mut last = io::Error::new(io::ErrorKind::NotFound, "host name resolved to no address");
    for addr in (host, port).to_socket_addrs()? {
        let left = match deadline {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => limit,
        };
        if left.is_zero() {
            return Err(timed_out());
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_nonblocking(true)?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Registers `stream` for readability without reading: for a caller that knows nothing can
/// have arrived yet (it has just sent a request), poll(2) then one read costs a system call
/// less than a read that finds nothing, a poll(2) and a read.
pub(crate) fn wait_readable(stream: &TcpStream) {
    register(stream.as_raw_fd(), libc::POLLIN);
}

/// Reads what the socket has into `buf`; pending (with the socket registered) when nothing.
pub(crate) fn poll_recv(
    stream: &TcpStream,
    buf: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    loop {
        match socket2::SockRef::from(stream).recv(buf) {
            Ok(n) => return Poll::Ready(Ok(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                register(stream.as_raw_fd(), libc::POLLIN);
                return Poll::Pending;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

/// Writes all of `buf`, waiting for the socket to take more when it is full.
pub(crate) async fn write_all(mut stream: &TcpStream, mut buf: &[u8]) -> io::Result<()> {
    poll_fn(|_| loop {
        if buf.is_empty() {
            return Poll::Ready(Ok(()));
        }
        // std's TcpStream sends with MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE.
        match stream.write(buf) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                register(stream.as_raw_fd(), libc::POLLOUT);
                return Poll::Pending;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Poll::Ready(Err(e)),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    #[test]
    fn block_on_until_stops_at_the_deadline_or_when_cancelled() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect("127.0.0.1", port, Duration::from_secs(5)).unwrap();
        // Nothing ever arrives: only the stop conditions end the wait.
        let never = || {
            poll_fn(|_| {
                let mut buf = [MaybeUninit::uninit(); 8];
                poll_recv(&stream, &mut buf).map(|_| ())
            })
        };
        let started = Instant::now();
        let stopped = block_on_until(
            never(),
            StopWhen {
                deadline: Some(started + Duration::from_millis(150)),
                tick: Duration::from_secs(10),
                cancelled: &mut || false,
            },
        );
        assert_eq!(stopped, Err(Stopped::TimedOut));
        assert!(started.elapsed() >= Duration::from_millis(150));
        assert!(started.elapsed() < Duration::from_secs(2));

        // A check that turns true is seen within a tick, with no socket activity.
        let mut checks = 0;
        let started = Instant::now();
        let stopped = block_on_until(
            never(),
            StopWhen {
                deadline: None,
                tick: Duration::from_millis(20),
                cancelled: &mut || {
                    checks += 1;
                    checks == 5
                },
            },
        );
        assert_eq!(stopped, Err(Stopped::Cancelled));
        assert!(started.elapsed() >= Duration::from_millis(60));
        assert!(started.elapsed() < Duration::from_secs(2));

        // A future that completes is not stopped.
        let done = block_on_until(
            async { 7 },
            StopWhen {
                deadline: Some(Instant::now()),
                tick: Duration::from_millis(1),
                cancelled: &mut || true,
            },
        );
        assert_eq!(done, Ok(7));
    }

    #[test]
    fn waits_for_a_socket_and_honours_deadlines() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect("127.0.0.1", port, Duration::from_secs(5)).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];

        // Nothing sent: the deadline ends the wait.
        let started = Instant::now();
        let read = block_on(timeout(
            Duration::from_millis(50),
            poll_fn(|_| poll_recv(&stream, &mut buf)),
        ));
        assert!(read.is_none());
        assert!(started.elapsed() >= Duration::from_millis(50));

        // Data from another thread wakes the poll.
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            peer.write_all(b"hello").unwrap();
            peer
        });
        let n = block_on(poll_fn(|_| poll_recv(&stream, &mut buf))).unwrap();
        assert_eq!(n, 5);
        let mut peer = writer.join().unwrap();

        block_on(write_all(&stream, b"back")).unwrap();
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"back");
        assert!(!active());
    }

    #[test]
    fn a_passed_deadline_still_sees_what_has_arrived() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect("127.0.0.1", port, Duration::from_secs(5)).unwrap();
        let (mut peer, _) = listener.accept().unwrap();
        peer.write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        // Like a connection that has just sent a request: wait for readability before reading.
        let mut polled_before = false;
        let read_after_wait = poll_fn(|_| {
            if std::mem::replace(&mut polled_before, true) {
                return Poll::Ready(());
            }
            wait_readable(&stream);
            Poll::Pending
        });
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(block_on(timeout_at(past, read_after_wait)), Some(()));
        // The byte is read although the deadline has passed; with nothing left, the wait ends.
        let mut buf = [MaybeUninit::<u8>::uninit(); 16];
        assert_eq!(
            block_on(timeout_at(past, poll_fn(|_| poll_recv(&stream, &mut buf)))).map(|r| r.ok()),
            Some(Some(1))
        );
        let started = Instant::now();
        assert!(block_on(timeout_at(past, poll_fn(|_| poll_recv(&stream, &mut buf)))).is_none());
        assert!(started.elapsed() < Duration::from_millis(500));
    }

    #[test]
    fn a_limit_too_large_for_instant_means_no_limit() {
        assert!(deadline_after(Duration::MAX).is_none());
        assert_eq!(block_on(timeout(Duration::MAX, async { 7 })), Some(7));
    }

    #[test]
    fn connect_reports_a_refused_port() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(connect("127.0.0.1", port, Duration::from_secs(1)).is_err());
    }
}
