//! Fuzzes the KLV decoders: KLV packet sequences, ST 0601 sets (every item decoded and displayed), nested and
//! standalone ST 0102 sets and their markings, metadata AU cells, PSI sections and PES headers. What parses must
//! re-encode to something that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redoubt_fmv::klv::au_cell::au_cells;
use redoubt_fmv::klv::{KlvPackets, local_items};
use redoubt_fmv::st0102::{SecurityMarking, SecuritySet};
use redoubt_fmv::st0601::UasDatalinkSet;
use redoubt_fmv::ts::{Pat, Pmt, pes};

fn security(set: &SecuritySet) {
    let _ = set.to_string();
    assert_eq!(SecuritySet::parse_nested(&set.encode_nested()).as_ref(), Ok(set));
    if let Ok(marking) = SecurityMarking::try_from(set) {
        let again = SecurityMarking::try_from(&marking.to_security_set());
        assert_eq!(again.as_ref(), Ok(&marking));
    }
}

fuzz_target!(|data: &[u8]| {
    for packet in KlvPackets::new(data).flatten() {
        if let Ok(set) = UasDatalinkSet::from_packet(&packet) {
            for item in set.decoded() {
                let _ = item.value.map(|v| v.to_string());
            }
            let _ =
                (set.sensor_position(), set.frame_center(), set.platform_attitude(), set.precision_time());
            if let Some(Ok(nested)) = set.security() {
                security(&nested);
            }
        }
        if let Ok(set) = SecuritySet::from_packet(&packet) {
            security(&set);
            assert_eq!(SecuritySet::parse_standalone(&set.encode_standalone()).as_ref(), Ok(&set));
        }
    }
    if let Ok(set) = SecuritySet::parse_nested(data) {
        security(&set);
    }
    let _ = local_items(data);
    let _ = au_cells(data);
    if let Ok(pat) = Pat::parse(data) {
        assert_eq!(Pat::parse(&pat.encode()).as_ref(), Ok(&pat));
    }
    if let Ok(pmt) = Pmt::parse(data) {
        let _ = pmt.streams.iter().map(|s| s.klv_carriage()).count();
    }
    let _ = pes::parse_header(data);
});
