#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| casefile::fuzzing::k8s_audit_lines(data));
