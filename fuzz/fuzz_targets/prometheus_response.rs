#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| casefile::fuzzing::prometheus_response(data));
