#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| secgroup_fuzz::http::fuzz(data));
