#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| casefile::fuzzing::grafana_annotations(data));
