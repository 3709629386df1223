//! The binary Gearman wire format: the packet table, an encoder and an incremental decoder.
//!
//! Pure code with no I/O. A packet is a 12-byte header (magic, type, payload length) followed by
//! NUL-separated arguments; for packets that carry opaque data the data is the last argument and
//! may itself contain NULs.

use std::collections::TryReserveError;

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Length of a packet header in bytes.
pub const HEADER_LEN: usize = 12;
/// Default cap on a packet's payload: 64 MiB.
pub const DEFAULT_MAX_PAYLOAD: usize = 64 * 1024 * 1024;
/// Default cap on a text admin line, including its terminator.
pub const DEFAULT_MAX_LINE: usize = 8 * 1024;
/// Largest unique id a server accepts (`GEARMAN_MAX_UNIQUE_SIZE` minus the NUL).
pub const MAX_UNIQUE_LEN: usize = 64;
/// Largest job handle, including libgearman's terminating NUL.
pub const MAX_HANDLE_LEN: usize = 64;

/// Which way a packet travels: requests go to the server, responses come from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Magic {
    /// `\0REQ`
    Request,
    /// `\0RES`
    Response,
}

impl Magic {
    /// The four magic bytes.
    pub const fn bytes(self) -> &'static [u8; 4] {
        match self {
            Magic::Request => b"\0REQ",
            Magic::Response => b"\0RES",
        }
    }

    fn from_bytes(bytes: &[u8]) -> Option<Magic> {
        match bytes {
            b"\0REQ" => Some(Magic::Request),
            b"\0RES" => Some(Magic::Response),
            _ => None,
        }
    }
}

/// Static description of one packet type.
#[derive(Debug, Clone, Copy)]
pub struct PacketSpec {
    /// Number on the wire.
    pub number: u32,
    /// Upper-case protocol name, e.g. `SUBMIT_JOB`.
    pub name: &'static str,
    /// Number of arguments, not counting opaque data.
    pub args: usize,
    /// Whether opaque data (which may contain NULs) follows the arguments.
    pub data: bool,
}

macro_rules! packet_types {
    ($($variant:ident = $num:literal, $name:literal, $args:literal, $data:literal;)*) => {
        /// Every packet type of the protocol, numbered as on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum PacketType {
            $(
                #[doc = $name]
                $variant = $num,
            )*
        }

        /// The packet table, indexed by packet number.
        pub const PACKET_TABLE: &[PacketSpec] = &[
            $(PacketSpec { number: $num, name: $name, args: $args, data: $data },)*
        ];

        const ALL_TYPES: &[PacketType] = &[$(PacketType::$variant,)*];
    };
}

packet_types! {
    Text = 0, "TEXT", 0, false;
    CanDo = 1, "CAN_DO", 1, false;
    CantDo = 2, "CANT_DO", 1, false;
    ResetAbilities = 3, "RESET_ABILITIES", 0, false;
    PreSleep = 4, "PRE_SLEEP", 0, false;
    Unused = 5, "UNUSED", 0, false;
    Noop = 6, "NOOP", 0, false;
    SubmitJob = 7, "SUBMIT_JOB", 2, true;
    JobCreated = 8, "JOB_CREATED", 1, false;
    GrabJob = 9, "GRAB_JOB", 0, false;
    NoJob = 10, "NO_JOB", 0, false;
    JobAssign = 11, "JOB_ASSIGN", 2, true;
    WorkStatus = 12, "WORK_STATUS", 3, false;
    WorkComplete = 13, "WORK_COMPLETE", 1, true;
    WorkFail = 14, "WORK_FAIL", 1, false;
    GetStatus = 15, "GET_STATUS", 1, false;
    EchoReq = 16, "ECHO_REQ", 0, true;
    EchoRes = 17, "ECHO_RES", 0, true;
    SubmitJobBg = 18, "SUBMIT_JOB_BG", 2, true;
    Error = 19, "ERROR", 2, false;
    StatusRes = 20, "STATUS_RES", 5, false;
    SubmitJobHigh = 21, "SUBMIT_JOB_HIGH", 2, true;
    SetClientId = 22, "SET_CLIENT_ID", 1, false;
    CanDoTimeout = 23, "CAN_DO_TIMEOUT", 2, false;
    AllYours = 24, "ALL_YOURS", 0, false;
    WorkException = 25, "WORK_EXCEPTION", 1, true;
    OptionReq = 26, "OPTION_REQ", 1, false;
    OptionRes = 27, "OPTION_RES", 1, false;
    WorkData = 28, "WORK_DATA", 1, true;
    WorkWarning = 29, "WORK_WARNING", 1, true;
    GrabJobUniq = 30, "GRAB_JOB_UNIQ", 0, false;
    JobAssignUniq = 31, "JOB_ASSIGN_UNIQ", 3, true;
    SubmitJobHighBg = 32, "SUBMIT_JOB_HIGH_BG", 2, true;
    SubmitJobLow = 33, "SUBMIT_JOB_LOW", 2, true;
    SubmitJobLowBg = 34, "SUBMIT_JOB_LOW_BG", 2, true;
    SubmitJobSched = 35, "SUBMIT_JOB_SCHED", 7, true;
    SubmitJobEpoch = 36, "SUBMIT_JOB_EPOCH", 3, true;
    SubmitReduceJob = 37, "SUBMIT_REDUCE_JOB", 4, true;
    SubmitReduceJobBackground = 38, "SUBMIT_REDUCE_JOB_BACKGROUND", 4, true;
    GrabJobAll = 39, "GRAB_JOB_ALL", 0, false;
    JobAssignAll = 40, "JOB_ASSIGN_ALL", 4, true;
    GetStatusUnique = 41, "GET_STATUS_UNIQUE", 1, false;
    StatusResUnique = 42, "STATUS_RES_UNIQUE", 6, false;
}

impl PacketType {
    /// The type with this wire number, if it exists. `TEXT` (0) exists but is never valid on
    /// the wire; the decoder rejects it.
    pub fn from_number(number: u32) -> Option<PacketType> {
        ALL_TYPES.get(number as usize).copied()
    }

    /// This type's entry in [`PACKET_TABLE`].
    pub fn spec(self) -> &'static PacketSpec {
        &PACKET_TABLE[self as usize]
    }

    /// Protocol name, e.g. `WORK_COMPLETE`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Number of fields in a well-formed packet, counting opaque data as one field.
    pub fn field_count(self) -> usize {
        let spec = self.spec();
        spec.args + usize::from(spec.data)
    }
}

/// One decoded or to-be-encoded binary packet. `args` holds every field, with opaque data (if
/// the type has it) as the last one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub magic: Magic,
    pub kind: PacketType,
    pub args: Vec<Bytes>,
}

impl Packet {
    /// A request (`\0REQ`) packet.
    pub fn request(kind: PacketType, args: Vec<Bytes>) -> Packet {
        Packet {
            magic: Magic::Request,
            kind,
            args,
        }
    }

    /// A response (`\0RES`) packet.
    pub fn response(kind: PacketType, args: Vec<Bytes>) -> Packet {
        Packet {
            magic: Magic::Response,
            kind,
            args,
        }
    }

    /// Field `i`, or an empty slice when absent.
    pub fn arg(&self, i: usize) -> &[u8] {
        self.args.get(i).map(|b| &b[..]).unwrap_or(&[])
    }

    /// Field `i` as a cheap `Bytes` clone, or empty.
    pub fn arg_bytes(&self, i: usize) -> Bytes {
        self.args.get(i).cloned().unwrap_or_default()
    }

    /// Length of the encoded payload.
    pub fn payload_len(&self) -> usize {
        let separators = self.args.len().saturating_sub(1);
        self.args.iter().map(Bytes::len).sum::<usize>() + separators
    }

    /// Appends the encoded packet to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        let fields: Vec<&[u8]> = self.args.iter().map(|a| &a[..]).collect();
        encode_packet(self.magic, self.kind, &fields, out);
    }

    /// The encoded packet as a new buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(HEADER_LEN + self.payload_len());
        self.encode(&mut out);
        out.freeze()
    }
}

/// Appends one packet made of `fields` (NUL-separated, the last one unterminated) to `out`,
/// without building a [`Packet`] first.
pub fn encode_packet(magic: Magic, kind: PacketType, fields: &[&[u8]], out: &mut BytesMut) {
    let separators = fields.len().saturating_sub(1);
    let len = fields.iter().map(|f| f.len()).sum::<usize>() + separators;
    out.reserve(HEADER_LEN + len);
    out.put_slice(magic.bytes());
    out.put_u32(kind as u32);
    out.put_u32(len as u32);
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.put_u8(0);
        }
        out.put_slice(field);
    }
}

/// Makes room for at least `additional` more bytes in `buf`, growing geometrically like
/// `BytesMut::reserve`, but reports a failed allocation instead of aborting the process. For
/// buffers whose size a peer drives: on failure, drop that peer's connection.
pub fn try_reserve(buf: &mut BytesMut, additional: usize) -> Result<(), TryReserveError> {
    if buf.capacity() - buf.len() >= additional || buf.try_reclaim(additional) {
        return Ok(());
    }
    let want = buf
        .len()
        .saturating_add(additional)
        .max(buf.capacity().saturating_mul(2));
    let mut grown = Vec::new();
    grown.try_reserve_exact(want)?;
    grown.extend_from_slice(buf);
    // A Vec with spare capacity becomes a BytesMut that keeps it, without a copy.
    *buf = BytesMut::from(Bytes::from(grown));
    Ok(())
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("bad magic {0:02x?}: expected \\0REQ or \\0RES")]
    BadMagic([u8; 4]),
    #[error("wrong magic: expected {expected:?}, got {got:?}")]
    WrongMagic { expected: Magic, got: Magic },
    #[error("unknown packet type {0}")]
    UnknownType(u32),
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    PayloadTooLarge { len: usize, max: usize },
    #[error("{kind:?} needs {expected} arguments, found {found}")]
    WrongArgCount {
        kind: PacketType,
        expected: usize,
        found: usize,
    },
    #[error("text line longer than {max} bytes")]
    LineTooLong { max: usize },
    #[error("text where a binary packet was expected")]
    UnexpectedText,
    /// A well-formed packet of a type not expected in this direction: a response type sent
    /// to a server, a request type sent to a client, or a type nobody implements
    /// (SUBMIT_JOB_SCHED, ALL_YOURS). [`crate::message`] reports it; the connection may go on.
    #[error("{0:?} packets are not expected here")]
    UnexpectedKind(PacketType),
}

/// One unit read off a connection: a binary packet or a text admin line (without its `\n` and
/// an optional trailing `\r`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Packet(Packet),
    Text(Bytes),
}

/// Incremental decoder. Feed it a buffer; it consumes whole frames and leaves partial ones.
#[derive(Debug, Clone)]
pub struct Decoder {
    expect: Magic,
    accept_text: bool,
    max_payload: usize,
    max_line: usize,
}

impl Decoder {
    /// A decoder for a server: requests and text admin lines.
    pub fn for_server() -> Decoder {
        Decoder {
            expect: Magic::Request,
            accept_text: true,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// A decoder for a client or worker: responses only.
    pub fn for_client() -> Decoder {
        Decoder {
            expect: Magic::Response,
            accept_text: false,
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Sets the largest accepted payload.
    pub fn max_payload(mut self, max: usize) -> Decoder {
        self.max_payload = max;
        self
    }

    /// Sets the longest accepted text line.
    pub fn max_line(mut self, max: usize) -> Decoder {
        self.max_line = max;
        self
    }

    /// Decodes one frame from the front of `buf`. `Ok(None)` means more bytes are needed.
    /// On error the buffer is left as it was; the connection should be closed.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        if first != 0 {
            if !self.accept_text {
                return Err(ProtocolError::UnexpectedText);
            }
            return self.decode_line(buf);
        }
        if buf.len() < 4 {
            return Ok(None);
        }
        let Some(magic) = Magic::from_bytes(&buf[..4]) else {
            let mut bad = [0u8; 4];
            bad.copy_from_slice(&buf[..4]);
            return Err(ProtocolError::BadMagic(bad));
        };
        if magic != self.expect {
            return Err(ProtocolError::WrongMagic {
                expected: self.expect,
                got: magic,
            });
        }
        if buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let number = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let len = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize;
        let kind = match PacketType::from_number(number) {
            Some(PacketType::Text) | None => return Err(ProtocolError::UnknownType(number)),
            Some(kind) => kind,
        };
        if len > self.max_payload {
            return Err(ProtocolError::PayloadTooLarge {
                len,
                max: self.max_payload,
            });
        }
        if buf.len() < HEADER_LEN + len {
            // Room is made as bytes arrive (see `try_reserve`), never for what a header
            // merely claims: twelve bytes must not cost the payload limit in memory.
            return Ok(None);
        }
        let args = split_args(kind, &buf[HEADER_LEN..HEADER_LEN + len])?;
        buf.advance(HEADER_LEN);
        let payload = buf.split_to(len).freeze();
        let args = args.into_iter().map(|(s, e)| payload.slice(s..e)).collect();
        Ok(Some(Frame::Packet(Packet { magic, kind, args })))
    }

    fn decode_line(&self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let window = &buf[..buf.len().min(self.max_line)];
        match window.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let mut line = buf.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                Ok(Some(Frame::Text(line.freeze())))
            }
            None if buf.len() >= self.max_line => {
                Err(ProtocolError::LineTooLong { max: self.max_line })
            }
            None => Ok(None),
        }
    }
}

/// Splits a payload into field ranges according to the packet table (§1.2 of the protocol).
fn split_args(kind: PacketType, payload: &[u8]) -> Result<Vec<(usize, usize)>, ProtocolError> {
    let spec = kind.spec();
    let fields = kind.field_count();
    let mut ranges = Vec::with_capacity(fields);
    if fields == 0 {
        if !payload.is_empty() {
            return Err(ProtocolError::WrongArgCount {
                kind,
                expected: 0,
                found: 1,
            });
        }
        return Ok(ranges);
    }
    let terminated = if spec.data { spec.args } else { spec.args - 1 };
    let mut start = 0;
    for found in 0..terminated {
        match payload[start..].iter().position(|&b| b == 0) {
            Some(nul) => {
                ranges.push((start, start + nul));
                start += nul + 1;
            }
            None => {
                let found = if payload.is_empty() { found } else { found + 1 };
                return Err(ProtocolError::WrongArgCount {
                    kind,
                    expected: fields,
                    found,
                });
            }
        }
    }
    ranges.push((start, payload.len()));
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn table_is_complete_and_numbered() {
        assert_eq!(PACKET_TABLE.len(), 43);
        for (i, spec) in PACKET_TABLE.iter().enumerate() {
            assert_eq!(spec.number as usize, i);
            assert_eq!(PacketType::from_number(i as u32).unwrap().name(), spec.name);
        }
        assert!(PacketType::from_number(43).is_none());
    }

    #[test]
    fn example_submit_job_is_byte_exact() {
        let packet = Packet::request(
            PacketType::SubmitJob,
            vec![Bytes::from("reverse"), Bytes::new(), Bytes::from("test")],
        );
        assert_eq!(
            hex(&packet.to_bytes()),
            "00 52 45 51 00 00 00 07 00 00 00 0d 72 65 76 65 72 73 65 00 00 74 65 73 74"
        );
    }

    #[test]
    fn example_exchange_headers_match_protocol_md() {
        let cases: &[(Packet, &str)] = &[
            (
                Packet::request(PacketType::CanDo, vec![Bytes::from("reverse")]),
                "00 52 45 51 00 00 00 01 00 00 00 07",
            ),
            (
                Packet::request(PacketType::GrabJob, vec![]),
                "00 52 45 51 00 00 00 09 00 00 00 00",
            ),
            (
                Packet::response(PacketType::NoJob, vec![]),
                "00 52 45 53 00 00 00 0a 00 00 00 00",
            ),
            (
                Packet::response(PacketType::JobCreated, vec![Bytes::from("H:lap:1")]),
                "00 52 45 53 00 00 00 08 00 00 00 07",
            ),
            (
                Packet::response(
                    PacketType::JobAssign,
                    vec![
                        Bytes::from("H:lap:1"),
                        Bytes::from("reverse"),
                        Bytes::from("test"),
                    ],
                ),
                "00 52 45 53 00 00 00 0b 00 00 00 14",
            ),
            (
                Packet::request(
                    PacketType::WorkComplete,
                    vec![Bytes::from("H:lap:1"), Bytes::from("tset")],
                ),
                "00 52 45 51 00 00 00 0d 00 00 00 0c",
            ),
        ];
        for (packet, header) in cases {
            let bytes = packet.to_bytes();
            assert_eq!(hex(&bytes[..HEADER_LEN]), *header, "{:?}", packet.kind);
            let decoder = if packet.magic == Magic::Request {
                Decoder::for_server()
            } else {
                Decoder::for_client()
            };
            let mut buf = BytesMut::from(&bytes[..]);
            assert_eq!(
                decoder.decode(&mut buf).unwrap(),
                Some(Frame::Packet(packet.clone()))
            );
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn data_may_contain_nuls_and_be_empty() {
        let mut buf = BytesMut::from(&b"\0RES\0\0\0\x0d\0\0\0\x06H:1\0\0x"[..]);
        let Some(Frame::Packet(p)) = Decoder::for_client().decode(&mut buf).unwrap() else {
            panic!("no packet")
        };
        assert_eq!(p.args, vec![Bytes::from("H:1"), Bytes::from(&b"\0x"[..])]);
        let mut buf = BytesMut::from(&b"\0RES\0\0\0\x0d\0\0\0\x04H:1\0"[..]);
        let Some(Frame::Packet(p)) = Decoder::for_client().decode(&mut buf).unwrap() else {
            panic!("no packet")
        };
        assert_eq!(p.args, vec![Bytes::from("H:1"), Bytes::new()]);
    }

    #[test]
    fn incremental_decoding_waits_for_whole_frames() {
        let bytes = Packet::request(
            PacketType::SubmitJob,
            vec![Bytes::from("f"), Bytes::from("u"), Bytes::from("data")],
        )
        .to_bytes();
        let decoder = Decoder::for_server();
        let mut buf = BytesMut::new();
        for (i, b) in bytes.iter().enumerate() {
            buf.put_u8(*b);
            let got = decoder.decode(&mut buf).unwrap();
            assert_eq!(got.is_some(), i == bytes.len() - 1);
        }
    }

    #[test]
    fn bad_input_gives_typed_errors() {
        let server = Decoder::for_server();
        let mut buf = BytesMut::from(&b"\0ABC\0\0\0\x01\0\0\0\0"[..]);
        assert_eq!(
            server.decode(&mut buf),
            Err(ProtocolError::BadMagic(*b"\0ABC"))
        );
        let mut buf = BytesMut::from(&b"\0RES\0\0\0\x01\0\0\0\0"[..]);
        assert!(matches!(
            server.decode(&mut buf),
            Err(ProtocolError::WrongMagic { .. })
        ));
        let mut buf = BytesMut::from(&b"\0REQ\0\0\0\x63\0\0\0\0"[..]);
        assert_eq!(server.decode(&mut buf), Err(ProtocolError::UnknownType(99)));
        let mut buf = BytesMut::from(&b"\0REQ\0\0\0\0\0\0\0\0"[..]);
        assert_eq!(server.decode(&mut buf), Err(ProtocolError::UnknownType(0)));
        let mut buf = BytesMut::from(&b"\0REQ\0\0\0\x07\xff\xff\xff\xff"[..]);
        assert!(matches!(
            server.decode(&mut buf),
            Err(ProtocolError::PayloadTooLarge { .. })
        ));
        let mut buf = BytesMut::from(&b"\0REQ\0\0\0\x07\0\0\0\x03abc"[..]);
        assert_eq!(
            server.decode(&mut buf),
            Err(ProtocolError::WrongArgCount {
                kind: PacketType::SubmitJob,
                expected: 3,
                found: 1
            })
        );
        let mut buf = BytesMut::from(&b"\0REQ\0\0\0\x09\0\0\0\x01x"[..]);
        assert!(matches!(
            server.decode(&mut buf),
            Err(ProtocolError::WrongArgCount { .. })
        ));
        let mut buf = BytesMut::from(&b"garbage"[..]);
        assert_eq!(
            Decoder::for_client().decode(&mut buf),
            Err(ProtocolError::UnexpectedText)
        );
        let mut buf = BytesMut::from(&[b'x'; 100][..]);
        assert_eq!(
            Decoder::for_server().max_line(50).decode(&mut buf),
            Err(ProtocolError::LineTooLong { max: 50 })
        );
    }

    #[test]
    fn a_header_alone_does_not_reserve_its_claimed_payload() {
        let mut buf = BytesMut::with_capacity(HEADER_LEN);
        buf.extend_from_slice(b"\0REQ\0\0\0\x07\x03\xff\xff\xff");
        assert_eq!(Decoder::for_server().decode(&mut buf), Ok(None));
        assert!(buf.capacity() < 1024, "capacity {}", buf.capacity());
    }

    #[test]
    fn try_reserve_grows_geometrically_and_keeps_the_bytes() {
        let mut buf = BytesMut::from(&b"abc"[..]);
        try_reserve(&mut buf, 10).unwrap();
        assert!(buf.capacity() >= 13);
        assert_eq!(&buf[..], b"abc");
        let before = buf.capacity();
        buf.extend_from_slice(&vec![b'x'; before - buf.len()]);
        try_reserve(&mut buf, 1).unwrap();
        assert!(buf.capacity() >= 2 * before);
        assert!(try_reserve(&mut buf, usize::MAX / 2).is_err());
        assert_eq!(&buf[..3], b"abc");
    }

    #[test]
    fn text_lines_strip_crlf() {
        let mut buf = BytesMut::from(&b"status\r\nworkers\nver"[..]);
        let d = Decoder::for_server();
        assert_eq!(
            d.decode(&mut buf).unwrap(),
            Some(Frame::Text(Bytes::from("status")))
        );
        assert_eq!(
            d.decode(&mut buf).unwrap(),
            Some(Frame::Text(Bytes::from("workers")))
        );
        assert_eq!(d.decode(&mut buf).unwrap(), None);
    }

    fn arb_packet() -> impl Strategy<Value = Packet> {
        (1u32..43, any::<bool>()).prop_flat_map(|(n, req)| {
            let kind = PacketType::from_number(n).unwrap();
            let spec = kind.spec();
            let plain = proptest::collection::vec(
                proptest::collection::vec(1u8..=255, 0..16).prop_map(Bytes::from),
                spec.args,
            );
            let data = proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from);
            let has_data = spec.data;
            (plain, data).prop_map(move |(mut args, data)| {
                if has_data {
                    args.push(data);
                }
                let magic = if req { Magic::Request } else { Magic::Response };
                Packet { magic, kind, args }
            })
        })
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(packets in proptest::collection::vec(arb_packet(), 1..8)) {
            for packet in packets {
                let decoder = match packet.magic {
                    Magic::Request => Decoder::for_server(),
                    Magic::Response => Decoder::for_client(),
                };
                let mut buf = BytesMut::from(&packet.to_bytes()[..]);
                // The last plain argument of a data-less packet may not hold NULs, and an
                // argument-less packet has no fields at all: both are guaranteed by the strategy.
                let decoded = decoder.decode(&mut buf).unwrap();
                prop_assert_eq!(decoded, Some(Frame::Packet(packet)));
                prop_assert!(buf.is_empty());
            }
        }

        #[test]
        fn decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let mut buf = BytesMut::from(&bytes[..]);
            let decoder = Decoder::for_server().max_payload(128).max_line(64);
            while let Ok(Some(_)) = decoder.decode(&mut buf) {}
        }
    }
}
