#![no_main]
//! See `oretrace_fuzz_targets::epcis::format`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| oretrace_fuzz_targets::epcis::format(data));
