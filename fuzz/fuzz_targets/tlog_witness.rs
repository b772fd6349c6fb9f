#![no_main]
//! See `oretrace_fuzz_targets::tlog::witness`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| oretrace_fuzz_targets::tlog::witness(data));
