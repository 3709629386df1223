//! Typed messages: every request and response of the binary protocol with named fields.
//!
//! A [`Packet`] is decoded into a [`Request`] or a [`Response`] once (`from_packet`), and a typed
//! value is encoded straight into an output buffer (`encode`). This module is the only place that
//! knows at which position a packet carries which argument; the server, the client and the worker
//! match on these enums.
//!
//! Both enums are generic over their byte fields: decoding yields `Bytes` slices of the received
//! frame (no copy), and encoding takes anything that is `AsRef<[u8]>`, so a sender can encode
//! borrowed slices without building owned values first.
//!
//! Numbers are parsed leniently, as gearmand and libgearman do (`atoi`: junk is 0), because the
//! reference servers accept such packets; a field a receiver only relays (the WORK_STATUS
//! fraction) stays as the bytes that were sent, so it is forwarded byte for byte.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use gearman_core::message::Request;
//! use gearman_core::protocol::{Decoder, Frame};
//!
//! let mut wire = BytesMut::new();
//! Request::CanDoTimeout { function: &b"reverse"[..], timeout: 1500 }.encode(&mut wire);
//! let Some(Frame::Packet(packet)) = Decoder::for_server().decode(&mut wire)? else {
//!     unreachable!()
//! };
//! assert_eq!(
//!     Request::from_packet(packet)?,
//!     Request::CanDoTimeout { function: Bytes::from("reverse"), timeout: 1500 }
//! );
//! # Ok::<(), gearman_core::protocol::ProtocolError>(())
//! ```

use bytes::{Bytes, BytesMut};

use crate::job::{parse_number, Priority};
use crate::protocol::{encode_packet, Magic, Packet, PacketType, ProtocolError, HEADER_LEN};

/// A packet a client or worker sends to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<B = Bytes> {
    /// CAN_DO.
    CanDo { function: B },
    /// CAN_DO_TIMEOUT; `timeout` in milliseconds, 0 = none.
    CanDoTimeout { function: B, timeout: u64 },
    /// CANT_DO.
    CantDo { function: B },
    /// RESET_ABILITIES.
    ResetAbilities,
    /// PRE_SLEEP.
    PreSleep,
    /// SUBMIT_JOB and its priority and background variants.
    SubmitJob {
        function: B,
        unique: B,
        data: B,
        priority: Priority,
        background: bool,
    },
    /// SUBMIT_JOB_EPOCH: a background job, runnable from `epoch` (seconds since 1970).
    SubmitJobEpoch {
        function: B,
        unique: B,
        epoch: u64,
        data: B,
    },
    /// SUBMIT_REDUCE_JOB and SUBMIT_REDUCE_JOB_BACKGROUND. The reserved aggregator argument is
    /// sent empty and ignored on receipt.
    SubmitReduceJob {
        function: B,
        unique: B,
        reducer: B,
        data: B,
        background: bool,
    },
    /// GRAB_JOB: answered with JOB_ASSIGN.
    GrabJob,
    /// GRAB_JOB_UNIQ: answered with JOB_ASSIGN_UNIQ.
    GrabJobUniq,
    /// GRAB_JOB_ALL: answered with JOB_ASSIGN_ALL (for reduce jobs) or JOB_ASSIGN_UNIQ.
    GrabJobAll,
    /// WORK_STATUS; the fraction is decimal text, relayed as sent.
    WorkStatus {
        handle: B,
        numerator: B,
        denominator: B,
    },
    /// WORK_DATA.
    WorkData { handle: B, data: B },
    /// WORK_WARNING.
    WorkWarning { handle: B, data: B },
    /// WORK_COMPLETE.
    WorkComplete { handle: B, data: B },
    /// WORK_FAIL.
    WorkFail { handle: B },
    /// WORK_EXCEPTION.
    WorkException { handle: B, data: B },
    /// GET_STATUS.
    GetStatus { handle: B },
    /// GET_STATUS_UNIQUE.
    GetStatusUnique { unique: B },
    /// ECHO_REQ.
    EchoReq { data: B },
    /// SET_CLIENT_ID.
    SetClientId { id: B },
    /// OPTION_REQ.
    OptionReq { name: B },
}

/// A packet a server sends to a client or worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response<B = Bytes> {
    /// NOOP: wakes a sleeping worker.
    Noop,
    /// NO_JOB.
    NoJob,
    /// JOB_CREATED.
    JobCreated { handle: B },
    /// JOB_ASSIGN.
    JobAssign { handle: B, function: B, data: B },
    /// JOB_ASSIGN_UNIQ.
    JobAssignUniq {
        handle: B,
        function: B,
        unique: B,
        data: B,
    },
    /// JOB_ASSIGN_ALL.
    JobAssignAll {
        handle: B,
        function: B,
        unique: B,
        reducer: B,
        data: B,
    },
    /// WORK_STATUS, relayed from the worker; the fraction is decimal text.
    WorkStatus {
        handle: B,
        numerator: B,
        denominator: B,
    },
    /// WORK_DATA.
    WorkData { handle: B, data: B },
    /// WORK_WARNING.
    WorkWarning { handle: B, data: B },
    /// WORK_COMPLETE.
    WorkComplete { handle: B, data: B },
    /// WORK_FAIL.
    WorkFail { handle: B },
    /// WORK_EXCEPTION.
    WorkException { handle: B, data: B },
    /// ECHO_RES.
    EchoRes { data: B },
    /// ERROR.
    Error { code: B, text: B },
    /// STATUS_RES.
    StatusRes {
        handle: B,
        known: bool,
        running: bool,
        numerator: u64,
        denominator: u64,
    },
    /// STATUS_RES_UNIQUE; `clients` counts the clients waiting on the job.
    StatusResUnique {
        unique: B,
        known: bool,
        running: bool,
        numerator: u64,
        denominator: u64,
        clients: u64,
    },
    /// OPTION_RES.
    OptionRes { name: B },
}

/// The fields of a received packet, taken in order. The count was checked against the packet
/// table first, so a missing field cannot happen; it would read as empty.
struct Fields(std::vec::IntoIter<Bytes>);

impl Fields {
    fn of(packet: Packet, expect: Magic) -> Result<(PacketType, Fields), ProtocolError> {
        if packet.magic != expect {
            return Err(ProtocolError::WrongMagic {
                expected: expect,
                got: packet.magic,
            });
        }
        let expected = packet.kind.field_count();
        if packet.args.len() != expected {
            return Err(ProtocolError::WrongArgCount {
                kind: packet.kind,
                expected,
                found: packet.args.len(),
            });
        }
        Ok((packet.kind, Fields(packet.args.into_iter())))
    }

    fn next(&mut self) -> Bytes {
        self.0.next().unwrap_or_default()
    }

    fn number(&mut self) -> u64 {
        parse_number(&self.next())
    }

    fn flag(&mut self) -> bool {
        self.number() != 0
    }
}

/// A `u64` in decimal, on the stack.
struct Decimal {
    buf: [u8; 20],
    start: usize,
}

impl Decimal {
    fn new(mut n: u64) -> Decimal {
        let mut buf = [0u8; 20];
        let mut start = buf.len();
        loop {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Decimal { buf, start }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

fn packet_len(fields: &[&[u8]]) -> usize {
    let separators = fields.len().saturating_sub(1);
    HEADER_LEN + fields.iter().map(|f| f.len()).sum::<usize>() + separators
}

fn flag(b: bool) -> &'static [u8] {
    if b {
        b"1"
    } else {
        b"0"
    }
}

impl Request {
    /// Decodes a request packet. Fails on a response magic, a wrong field count, or a packet
    /// type that is no request a server handles (a response type, SUBMIT_JOB_SCHED, ALL_YOURS).
    pub fn from_packet(packet: Packet) -> Result<Request, ProtocolError> {
        use PacketType as T;
        let (kind, mut f) = Fields::of(packet, Magic::Request)?;
        let submit = |f: &mut Fields, priority, background| Request::SubmitJob {
            function: f.next(),
            unique: f.next(),
            data: f.next(),
            priority,
            background,
        };
        Ok(match kind {
            T::CanDo => Request::CanDo { function: f.next() },
            T::CanDoTimeout => Request::CanDoTimeout {
                function: f.next(),
                timeout: f.number(),
            },
            T::CantDo => Request::CantDo { function: f.next() },
            T::ResetAbilities => Request::ResetAbilities,
            T::PreSleep => Request::PreSleep,
            T::SubmitJob => submit(&mut f, Priority::Normal, false),
            T::SubmitJobBg => submit(&mut f, Priority::Normal, true),
            T::SubmitJobHigh => submit(&mut f, Priority::High, false),
            T::SubmitJobHighBg => submit(&mut f, Priority::High, true),
            T::SubmitJobLow => submit(&mut f, Priority::Low, false),
            T::SubmitJobLowBg => submit(&mut f, Priority::Low, true),
            T::SubmitJobEpoch => Request::SubmitJobEpoch {
                function: f.next(),
                unique: f.next(),
                epoch: f.number(),
                data: f.next(),
            },
            T::SubmitReduceJob | T::SubmitReduceJobBackground => {
                let (function, unique, reducer) = (f.next(), f.next(), f.next());
                let _aggregator = f.next();
                Request::SubmitReduceJob {
                    function,
                    unique,
                    reducer,
                    data: f.next(),
                    background: kind == T::SubmitReduceJobBackground,
                }
            }
            T::GrabJob => Request::GrabJob,
            T::GrabJobUniq => Request::GrabJobUniq,
            T::GrabJobAll => Request::GrabJobAll,
            T::WorkStatus => Request::WorkStatus {
                handle: f.next(),
                numerator: f.next(),
                denominator: f.next(),
            },
            T::WorkData => Request::WorkData {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkWarning => Request::WorkWarning {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkComplete => Request::WorkComplete {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkFail => Request::WorkFail { handle: f.next() },
            T::WorkException => Request::WorkException {
                handle: f.next(),
                data: f.next(),
            },
            T::GetStatus => Request::GetStatus { handle: f.next() },
            T::GetStatusUnique => Request::GetStatusUnique { unique: f.next() },
            T::EchoReq => Request::EchoReq { data: f.next() },
            T::SetClientId => Request::SetClientId { id: f.next() },
            T::OptionReq => Request::OptionReq { name: f.next() },
            other => return Err(ProtocolError::UnexpectedKind(other)),
        })
    }
}

impl<'a> Request<&'a [u8]> {
    /// The WORK_* request of `kind` for `handle`, with `fields` after the handle as the packet
    /// table orders them (nothing for WORK_FAIL, numerator and denominator for WORK_STATUS, the
    /// data otherwise). `None` for any other kind or a wrong number of fields.
    pub fn work(kind: PacketType, handle: &'a [u8], fields: &[&'a [u8]]) -> Option<Self> {
        Some(match (kind, fields) {
            (PacketType::WorkFail, []) => Request::WorkFail { handle },
            (PacketType::WorkStatus, &[numerator, denominator]) => Request::WorkStatus {
                handle,
                numerator,
                denominator,
            },
            (PacketType::WorkData, &[data]) => Request::WorkData { handle, data },
            (PacketType::WorkWarning, &[data]) => Request::WorkWarning { handle, data },
            (PacketType::WorkComplete, &[data]) => Request::WorkComplete { handle, data },
            (PacketType::WorkException, &[data]) => Request::WorkException { handle, data },
            _ => return None,
        })
    }
}

impl<B: AsRef<[u8]>> Request<B> {
    /// The packet type on the wire.
    pub fn kind(&self) -> PacketType {
        use PacketType as T;
        match self {
            Request::CanDo { .. } => T::CanDo,
            Request::CanDoTimeout { .. } => T::CanDoTimeout,
            Request::CantDo { .. } => T::CantDo,
            Request::ResetAbilities => T::ResetAbilities,
            Request::PreSleep => T::PreSleep,
            Request::SubmitJob {
                priority,
                background,
                ..
            } => match (priority, background) {
                (Priority::High, false) => T::SubmitJobHigh,
                (Priority::High, true) => T::SubmitJobHighBg,
                (Priority::Normal, false) => T::SubmitJob,
                (Priority::Normal, true) => T::SubmitJobBg,
                (Priority::Low, false) => T::SubmitJobLow,
                (Priority::Low, true) => T::SubmitJobLowBg,
            },
            Request::SubmitJobEpoch { .. } => T::SubmitJobEpoch,
            Request::SubmitReduceJob { background, .. } => {
                if *background {
                    T::SubmitReduceJobBackground
                } else {
                    T::SubmitReduceJob
                }
            }
            Request::GrabJob => T::GrabJob,
            Request::GrabJobUniq => T::GrabJobUniq,
            Request::GrabJobAll => T::GrabJobAll,
            Request::WorkStatus { .. } => T::WorkStatus,
            Request::WorkData { .. } => T::WorkData,
            Request::WorkWarning { .. } => T::WorkWarning,
            Request::WorkComplete { .. } => T::WorkComplete,
            Request::WorkFail { .. } => T::WorkFail,
            Request::WorkException { .. } => T::WorkException,
            Request::GetStatus { .. } => T::GetStatus,
            Request::GetStatusUnique { .. } => T::GetStatusUnique,
            Request::EchoReq { .. } => T::EchoReq,
            Request::SetClientId { .. } => T::SetClientId,
            Request::OptionReq { .. } => T::OptionReq,
        }
    }

    /// Whether this submits a background job (one a durable store must write before answering).
    pub fn is_background_submit(&self) -> bool {
        match self {
            Request::SubmitJob { background, .. } | Request::SubmitReduceJob { background, .. } => {
                *background
            }
            Request::SubmitJobEpoch { .. } => true,
            _ => false,
        }
    }

    /// Appends the encoded packet to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let kind = self.kind();
        self.with_fields(|fields| encode_packet(Magic::Request, kind, fields, out))
    }

    /// Length of the encoded packet, header included.
    pub fn encoded_len(&self) -> usize {
        self.with_fields(packet_len)
    }

    /// Calls `put` with the packet's fields in wire order.
    fn with_fields<R>(&self, put: impl FnOnce(&[&[u8]]) -> R) -> R {
        match self {
            Request::CanDo { function } | Request::CantDo { function } => put(&[function.as_ref()]),
            Request::CanDoTimeout { function, timeout } => {
                put(&[function.as_ref(), Decimal::new(*timeout).as_bytes()])
            }
            Request::ResetAbilities
            | Request::PreSleep
            | Request::GrabJob
            | Request::GrabJobUniq
            | Request::GrabJobAll => put(&[]),
            Request::SubmitJob {
                function,
                unique,
                data,
                ..
            } => put(&[function.as_ref(), unique.as_ref(), data.as_ref()]),
            Request::SubmitJobEpoch {
                function,
                unique,
                epoch,
                data,
            } => put(&[
                function.as_ref(),
                unique.as_ref(),
                Decimal::new(*epoch).as_bytes(),
                data.as_ref(),
            ]),
            Request::SubmitReduceJob {
                function,
                unique,
                reducer,
                data,
                ..
            } => put(&[
                function.as_ref(),
                unique.as_ref(),
                reducer.as_ref(),
                b"",
                data.as_ref(),
            ]),
            Request::WorkStatus {
                handle,
                numerator,
                denominator,
            } => put(&[handle.as_ref(), numerator.as_ref(), denominator.as_ref()]),
            Request::WorkData { handle, data }
            | Request::WorkWarning { handle, data }
            | Request::WorkComplete { handle, data }
            | Request::WorkException { handle, data } => put(&[handle.as_ref(), data.as_ref()]),
            Request::WorkFail { handle } | Request::GetStatus { handle } => put(&[handle.as_ref()]),
            Request::GetStatusUnique { unique: field }
            | Request::EchoReq { data: field }
            | Request::SetClientId { id: field }
            | Request::OptionReq { name: field } => put(&[field.as_ref()]),
        }
    }

    /// The encoded packet as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

impl Response {
    /// Decodes a response packet. Fails on a request magic, a wrong field count, or a packet type
    /// that is no response.
    pub fn from_packet(packet: Packet) -> Result<Response, ProtocolError> {
        use PacketType as T;
        let (kind, mut f) = Fields::of(packet, Magic::Response)?;
        Ok(match kind {
            T::Noop => Response::Noop,
            T::NoJob => Response::NoJob,
            T::JobCreated => Response::JobCreated { handle: f.next() },
            T::JobAssign => Response::JobAssign {
                handle: f.next(),
                function: f.next(),
                data: f.next(),
            },
            T::JobAssignUniq => Response::JobAssignUniq {
                handle: f.next(),
                function: f.next(),
                unique: f.next(),
                data: f.next(),
            },
            T::JobAssignAll => Response::JobAssignAll {
                handle: f.next(),
                function: f.next(),
                unique: f.next(),
                reducer: f.next(),
                data: f.next(),
            },
            T::WorkStatus => Response::WorkStatus {
                handle: f.next(),
                numerator: f.next(),
                denominator: f.next(),
            },
            T::WorkData => Response::WorkData {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkWarning => Response::WorkWarning {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkComplete => Response::WorkComplete {
                handle: f.next(),
                data: f.next(),
            },
            T::WorkFail => Response::WorkFail { handle: f.next() },
            T::WorkException => Response::WorkException {
                handle: f.next(),
                data: f.next(),
            },
            T::EchoRes => Response::EchoRes { data: f.next() },
            T::Error => Response::Error {
                code: f.next(),
                text: f.next(),
            },
            T::StatusRes => Response::StatusRes {
                handle: f.next(),
                known: f.flag(),
                running: f.flag(),
                numerator: f.number(),
                denominator: f.number(),
            },
            T::StatusResUnique => Response::StatusResUnique {
                unique: f.next(),
                known: f.flag(),
                running: f.flag(),
                numerator: f.number(),
                denominator: f.number(),
                clients: f.number(),
            },
            T::OptionRes => Response::OptionRes { name: f.next() },
            other => return Err(ProtocolError::UnexpectedKind(other)),
        })
    }
}

impl<B: AsRef<[u8]>> Response<B> {
    /// The packet type on the wire.
    pub fn kind(&self) -> PacketType {
        use PacketType as T;
        match self {
            Response::Noop => T::Noop,
            Response::NoJob => T::NoJob,
            Response::JobCreated { .. } => T::JobCreated,
            Response::JobAssign { .. } => T::JobAssign,
            Response::JobAssignUniq { .. } => T::JobAssignUniq,
            Response::JobAssignAll { .. } => T::JobAssignAll,
            Response::WorkStatus { .. } => T::WorkStatus,
            Response::WorkData { .. } => T::WorkData,
            Response::WorkWarning { .. } => T::WorkWarning,
            Response::WorkComplete { .. } => T::WorkComplete,
            Response::WorkFail { .. } => T::WorkFail,
            Response::WorkException { .. } => T::WorkException,
            Response::EchoRes { .. } => T::EchoRes,
            Response::Error { .. } => T::Error,
            Response::StatusRes { .. } => T::StatusRes,
            Response::StatusResUnique { .. } => T::StatusResUnique,
            Response::OptionRes { .. } => T::OptionRes,
        }
    }

    /// Appends the encoded packet to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let kind = self.kind();
        self.with_fields(|fields| encode_packet(Magic::Response, kind, fields, out))
    }

    /// Length of the encoded packet, header included.
    pub fn encoded_len(&self) -> usize {
        self.with_fields(packet_len)
    }

    /// Calls `put` with the packet's fields in wire order.
    fn with_fields<R>(&self, put: impl FnOnce(&[&[u8]]) -> R) -> R {
        match self {
            Response::Noop | Response::NoJob => put(&[]),
            Response::JobCreated { handle } | Response::WorkFail { handle } => {
                put(&[handle.as_ref()])
            }
            Response::JobAssign {
                handle,
                function,
                data,
            } => put(&[handle.as_ref(), function.as_ref(), data.as_ref()]),
            Response::JobAssignUniq {
                handle,
                function,
                unique,
                data,
            } => put(&[
                handle.as_ref(),
                function.as_ref(),
                unique.as_ref(),
                data.as_ref(),
            ]),
            Response::JobAssignAll {
                handle,
                function,
                unique,
                reducer,
                data,
            } => put(&[
                handle.as_ref(),
                function.as_ref(),
                unique.as_ref(),
                reducer.as_ref(),
                data.as_ref(),
            ]),
            Response::WorkStatus {
                handle,
                numerator,
                denominator,
            } => put(&[handle.as_ref(), numerator.as_ref(), denominator.as_ref()]),
            Response::WorkData { handle, data }
            | Response::WorkWarning { handle, data }
            | Response::WorkComplete { handle, data }
            | Response::WorkException { handle, data } => put(&[handle.as_ref(), data.as_ref()]),
            Response::EchoRes { data: field } | Response::OptionRes { name: field } => {
                put(&[field.as_ref()])
            }
            Response::Error { code, text } => put(&[code.as_ref(), text.as_ref()]),
            Response::StatusRes {
                handle,
                known,
                running,
                numerator,
                denominator,
            } => put(&[
                handle.as_ref(),
                flag(*known),
                flag(*running),
                Decimal::new(*numerator).as_bytes(),
                Decimal::new(*denominator).as_bytes(),
            ]),
            Response::StatusResUnique {
                unique,
                known,
                running,
                numerator,
                denominator,
                clients,
            } => put(&[
                unique.as_ref(),
                flag(*known),
                flag(*running),
                Decimal::new(*numerator).as_bytes(),
                Decimal::new(*denominator).as_bytes(),
                Decimal::new(*clients).as_bytes(),
            ]),
        }
    }

    /// The encoded packet as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Decoder, Frame};

    fn decode(bytes: Bytes, decoder: Decoder) -> Packet {
        let mut buf = BytesMut::from(&bytes[..]);
        match decoder.decode(&mut buf) {
            Ok(Some(Frame::Packet(p))) if buf.is_empty() => p,
            other => panic!("not one packet: {other:?}"),
        }
    }

    fn b(s: &str) -> Bytes {
        Bytes::copy_from_slice(s.as_bytes())
    }

    fn requests() -> Vec<Request> {
        let submit = |priority, background| Request::SubmitJob {
            function: b("f"),
            unique: b("u"),
            data: b("d\0ata"),
            priority,
            background,
        };
        let mut all = vec![
            Request::CanDo { function: b("f") },
            Request::CanDoTimeout {
                function: b("f"),
                timeout: 1500,
            },
            Request::CantDo { function: b("f") },
            Request::ResetAbilities,
            Request::PreSleep,
            Request::SubmitJobEpoch {
                function: b("f"),
                unique: b(""),
                epoch: 1_700_000_000,
                data: b("d"),
            },
            Request::GrabJob,
            Request::GrabJobUniq,
            Request::GrabJobAll,
            Request::WorkStatus {
                handle: b("H:1"),
                numerator: b("1"),
                denominator: b("007"),
            },
            Request::WorkData {
                handle: b("H:1"),
                data: b("x"),
            },
            Request::WorkWarning {
                handle: b("H:1"),
                data: b("x"),
            },
            Request::WorkComplete {
                handle: b("H:1"),
                data: b(""),
            },
            Request::WorkFail { handle: b("H:1") },
            Request::WorkException {
                handle: b("H:1"),
                data: b("e"),
            },
            Request::GetStatus { handle: b("H:1") },
            Request::GetStatusUnique { unique: b("u") },
            Request::EchoReq { data: b("e\0cho") },
            Request::SetClientId { id: b("me") },
            Request::OptionReq {
                name: b("exceptions"),
            },
        ];
        for priority in [Priority::High, Priority::Normal, Priority::Low] {
            all.push(submit(priority, false));
            all.push(submit(priority, true));
        }
        for background in [false, true] {
            all.push(Request::SubmitReduceJob {
                function: b("f"),
                unique: b("u"),
                reducer: b("r"),
                data: b("d"),
                background,
            });
        }
        all
    }

    fn responses() -> Vec<Response> {
        vec![
            Response::Noop,
            Response::NoJob,
            Response::JobCreated { handle: b("H:1") },
            Response::JobAssign {
                handle: b("H:1"),
                function: b("f"),
                data: b("d"),
            },
            Response::JobAssignUniq {
                handle: b("H:1"),
                function: b("f"),
                unique: b("u"),
                data: b("d"),
            },
            Response::JobAssignAll {
                handle: b("H:1"),
                function: b("f"),
                unique: b("u"),
                reducer: b("r"),
                data: b("d"),
            },
            Response::WorkStatus {
                handle: b("H:1"),
                numerator: b("1"),
                denominator: b("2"),
            },
            Response::WorkData {
                handle: b("H:1"),
                data: b("x"),
            },
            Response::WorkWarning {
                handle: b("H:1"),
                data: b("x"),
            },
            Response::WorkComplete {
                handle: b("H:1"),
                data: b("x"),
            },
            Response::WorkFail { handle: b("H:1") },
            Response::WorkException {
                handle: b("H:1"),
                data: b("x"),
            },
            Response::EchoRes { data: b("e") },
            Response::Error {
                code: b("C"),
                text: b("t"),
            },
            Response::StatusRes {
                handle: b("H:1"),
                known: true,
                running: false,
                numerator: 3,
                denominator: 18_446_744_073_709_551_615,
            },
            Response::StatusResUnique {
                unique: b("u"),
                known: true,
                running: true,
                numerator: 0,
                denominator: 10,
                clients: 2,
            },
            Response::OptionRes {
                name: b("exceptions"),
            },
        ]
    }

    #[test]
    fn every_request_round_trips_through_the_wire() {
        for request in requests() {
            assert_eq!(request.encoded_len(), request.to_bytes().len());
            let packet = decode(request.to_bytes(), Decoder::for_server());
            assert_eq!(packet.kind, request.kind());
            assert_eq!(Request::from_packet(packet).unwrap(), request);
        }
    }

    #[test]
    fn every_response_round_trips_through_the_wire() {
        for response in responses() {
            assert_eq!(response.encoded_len(), response.to_bytes().len());
            let packet = decode(response.to_bytes(), Decoder::for_client());
            assert_eq!(packet.kind, response.kind());
            assert_eq!(Response::from_packet(packet).unwrap(), response);
        }
    }

    #[test]
    fn encoding_matches_the_untyped_packet_byte_for_byte() {
        let typed = Request::SubmitReduceJob {
            function: &b"f"[..],
            unique: b"u",
            reducer: b"r",
            data: b"d",
            background: false,
        };
        let raw = Packet::request(
            PacketType::SubmitReduceJob,
            vec![b("f"), b("u"), b("r"), b(""), b("d")],
        );
        assert_eq!(typed.to_bytes(), raw.to_bytes());
        let status = Response::StatusRes {
            handle: &b"H:x:1"[..],
            known: true,
            running: false,
            numerator: 0,
            denominator: 0,
        };
        let raw = Packet::response(
            PacketType::StatusRes,
            vec![b("H:x:1"), b("1"), b("0"), b("0"), b("0")],
        );
        assert_eq!(status.to_bytes(), raw.to_bytes());
    }

    #[test]
    fn decoded_fields_share_the_frame() {
        let frame = Request::WorkComplete {
            handle: &b"H:1"[..],
            data: b"payload",
        }
        .to_bytes();
        let packet = decode(frame, Decoder::for_server());
        let payload_start = packet.args[0].as_ptr();
        let Request::WorkComplete { handle, data } = Request::from_packet(packet).unwrap() else {
            panic!("wrong variant")
        };
        assert_eq!(handle.as_ptr(), payload_start);
        // The data starts right after the handle and its NUL: a slice, not a copy.
        assert_eq!(data.as_ptr(), payload_start.wrapping_add(4));
    }

    #[test]
    fn numbers_are_lenient_like_atoi() {
        let packet = Packet::request(PacketType::CanDoTimeout, vec![b("f"), b("soon")]);
        assert_eq!(
            Request::from_packet(packet).unwrap(),
            Request::CanDoTimeout {
                function: b("f"),
                timeout: 0
            }
        );
    }

    #[test]
    fn wrong_direction_kind_or_shape_is_a_protocol_error() {
        for kind in [
            PacketType::Noop,
            PacketType::JobCreated,
            PacketType::AllYours,
            PacketType::Unused,
        ] {
            let packet = Packet::request(kind, vec![Bytes::new(); kind.field_count()]);
            assert_eq!(
                Request::from_packet(packet),
                Err(ProtocolError::UnexpectedKind(kind))
            );
        }
        let sched = Packet::request(PacketType::SubmitJobSched, vec![Bytes::new(); 8]);
        assert_eq!(
            Request::from_packet(sched),
            Err(ProtocolError::UnexpectedKind(PacketType::SubmitJobSched))
        );
        let grab = Packet::response(PacketType::GrabJob, vec![]);
        assert_eq!(
            Response::from_packet(grab.clone()),
            Err(ProtocolError::UnexpectedKind(PacketType::GrabJob))
        );
        assert!(matches!(
            Request::from_packet(grab),
            Err(ProtocolError::WrongMagic { .. })
        ));
        let short = Packet::request(PacketType::SubmitJob, vec![b("f")]);
        assert_eq!(
            Request::from_packet(short),
            Err(ProtocolError::WrongArgCount {
                kind: PacketType::SubmitJob,
                expected: 3,
                found: 1
            })
        );
    }

    #[test]
    fn work_builds_only_work_requests() {
        assert_eq!(
            Request::work(PacketType::WorkFail, b"H:1", &[]),
            Some(Request::WorkFail {
                handle: &b"H:1"[..]
            })
        );
        assert_eq!(
            Request::work(PacketType::WorkComplete, b"H:1", &[b"r"]),
            Some(Request::WorkComplete {
                handle: &b"H:1"[..],
                data: &b"r"[..]
            })
        );
        assert_eq!(Request::work(PacketType::WorkFail, b"H:1", &[b"x"]), None);
        assert_eq!(Request::work(PacketType::EchoReq, b"H:1", &[b"x"]), None);
    }

    #[test]
    fn background_submits_are_recognised() {
        let background: Vec<PacketType> = requests()
            .iter()
            .filter(|r| r.is_background_submit())
            .map(|r| r.kind())
            .collect();
        assert_eq!(
            background,
            [
                PacketType::SubmitJobEpoch,
                PacketType::SubmitJobHighBg,
                PacketType::SubmitJobBg,
                PacketType::SubmitJobLowBg,
                PacketType::SubmitReduceJobBackground,
            ]
        );
    }
}
