#![no_main]
//! See `oretrace_fuzz_targets::jose::detached`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| oretrace_fuzz_targets::jose::detached(data));
