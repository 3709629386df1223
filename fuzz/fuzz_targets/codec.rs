//! The protocol codec on arbitrary bytes: decoding never panics, and whatever decodes encodes
//! back to something that decodes to the same packet, request or response.
#![no_main]

use bytes::BytesMut;
use gearman_core::admin::AdminCommand;
use gearman_core::message::{Request, Response};
use gearman_core::protocol::{Decoder, Frame, Magic, Packet};
use libfuzzer_sys::fuzz_target;

fn decode_one(decoder: &Decoder, bytes: &[u8]) -> Packet {
    let mut buf = BytesMut::from(bytes);
    match decoder.decode(&mut buf) {
        Ok(Some(Frame::Packet(packet))) => {
            assert!(buf.is_empty(), "a re-encoded packet left bytes behind");
            packet
        }
        other => panic!("a re-encoded packet does not decode: {other:?}"),
    }
}

fn check_round_trip(decoder: &Decoder, packet: Packet) {
    let again = decode_one(decoder, &packet.to_bytes());
    assert_eq!(again.kind, packet.kind);
    assert_eq!(again.to_bytes(), packet.to_bytes());
    match packet.magic {
        Magic::Request => {
            if let Ok(request) = Request::from_packet(packet) {
                let mut out = BytesMut::new();
                request.encode(&mut out);
                assert_eq!(out.len(), request.encoded_len());
                let decoded = Request::from_packet(decode_one(decoder, &out))
                    .expect("an encoded request parses");
                assert_eq!(decoded, request);
            }
        }
        Magic::Response => {
            if let Ok(response) = Response::from_packet(packet) {
                let mut out = BytesMut::new();
                response.encode(&mut out);
                assert_eq!(out.len(), response.encoded_len());
                let decoded = Response::from_packet(decode_one(decoder, &out))
                    .expect("an encoded response parses");
                assert_eq!(decoded, response);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let decoders = [
        Decoder::for_server().max_payload(1 << 16).max_line(256),
        Decoder::for_client().max_payload(1 << 16),
    ];
    for decoder in &decoders {
        let mut buf = BytesMut::from(data);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(Frame::Packet(packet))) => check_round_trip(decoder, packet),
                Ok(Some(Frame::Text(line))) => {
                    let _ = AdminCommand::parse(&line);
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
});
