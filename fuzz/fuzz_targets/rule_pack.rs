#![no_main]
//! See `oretrace_fuzz_targets::rules::pack`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| oretrace_fuzz_targets::rules::pack(data));
