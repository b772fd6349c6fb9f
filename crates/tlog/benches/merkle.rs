//! Merkle tree benchmarks for `oretrace-tlog`, each reported against a raw
//! SHA-256 bound measured in the same run (the machines we run on are shared
//! and noisy, so absolute figures alone mean little).
//!
//! Criterion groups (detailed statistics):
//!
//! * `bound/sha256_raw`: `Sha256::digest` over exactly the inputs building a
//!   tree of N entries hashes: N leaf inputs `0x00 || entry` (101 bytes) and
//!   N-1 node inputs `0x01 || left || right` (65 bytes), no tree logic.
//! * `integrate/<N>`: leaf hashing plus [`CompactRange::append`], keeping only
//!   the tile levels (multiples of 8) in 8192-byte tile buffers, as a tile
//!   writer does; `integrate/<N>_memory_tree`: [`MemoryTree::append`], which
//!   stores every level.
//! * `prove/{inclusion,consistency}/<size>`: proof generation over a
//!   [`HashReader`] ([`MemoryTree`]) at random (fixed-seed) indices.
//! * `bound/sha256_node_x<k>`: k raw SHA-256 digests of 65 bytes, the floor
//!   for verifying a proof that costs k node hashes (independent digests:
//!   the throughput floor); `bound/sha256_node_chain_x<k>`: the same with
//!   each input carrying the previous digest, as verification's fold does
//!   (the latency floor). k is the rounded mean over the sampled proofs.
//! * `verify/{inclusion,consistency}/<size>`: proof verification.
//!
//! After the groups, a ratio table is printed from a separate, interleaved
//! `Instant` measurement (median of a few repetitions).
//!
//! Quick mode (`-- --test`, `cargo test --benches`, or
//! `ORETRACE_BENCH_QUICK=1`): N drops to 100,000, the 16M trees are skipped
//! and the summary runs once. `ORETRACE_BENCH_SUMMARY=0` skips the summary.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use oretrace_tlog::hash::{Hash, leaf_hash};
use oretrace_tlog::proof::{verify_consistency, verify_inclusion};
use oretrace_tlog::tile::{TILE_HEIGHT, TILE_WIDTH};
use oretrace_tlog::tree::{
    CompactRange, HashReader, MemoryTree, NodeId, consistency_ranges, inclusion_ranges,
    prove_consistency, prove_inclusion, tree_hash,
};
use sha2::{Digest, Sha256};

/// Bytes per benchmark entry.
const ENTRY_LEN: usize = 100;
/// Bytes in a full hash tile.
const TILE_BYTES: usize = TILE_WIDTH as usize * 32;
/// Random (index or old size) samples per proof benchmark.
const SAMPLES: usize = 1024;
/// Distinct 65-byte node inputs the SHA-256 bounds cycle through (260 KiB:
/// cache-resident, as the node inputs of tree building are).
const NODE_RING: usize = 4096;
/// Leaves in the big tree: 2^24. Both 16M sizes are prefixes of it.
const BIG_TREE: u64 = 1 << 24;

// ---------------------------------------------------------------------------
// Run configuration.

#[derive(Debug, Clone, Copy)]
struct Config {
    quick: bool,
    list: bool,
    /// Entries for `integrate` and the small proof tree.
    entries: u64,
    entries_label: &'static str,
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let quick = oretrace_benchkit::quick_mode();
        let (entries, entries_label) = if quick {
            (100_000, "100K")
        } else {
            (1_000_000, "1M")
        };
        Config {
            quick,
            list: oretrace_benchkit::list_mode(),
            entries,
            entries_label,
        }
    })
}

/// A tree size that proofs are generated and verified at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SizeKey {
    Small,
    BigPow2,
    BigNpot,
}

impl SizeKey {
    fn all() -> Vec<SizeKey> {
        if config().quick {
            vec![SizeKey::Small]
        } else {
            vec![SizeKey::Small, SizeKey::BigPow2, SizeKey::BigNpot]
        }
    }

    fn size(self) -> u64 {
        match self {
            SizeKey::Small => config().entries,
            SizeKey::BigPow2 => BIG_TREE,
            SizeKey::BigNpot => 16_000_123,
        }
    }

    fn label(self) -> &'static str {
        match self {
            SizeKey::Small => config().entries_label,
            SizeKey::BigPow2 => "16M",
            SizeKey::BigNpot => "16M_npot",
        }
    }
}

// ---------------------------------------------------------------------------
// Deterministic inputs.

/// PCG-style 64-bit LCG (Knuth's MMIX constants); high bits are used.
#[derive(Debug, Clone)]
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Mix the high half down: the low bits of an LCG are weak.
        self.0 ^ (self.0 >> 29)
    }

    /// Uniform-enough value in `[lo, hi)`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + ((self.next_u64() >> 11) % (hi - lo))
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// N pseudo-random entries of `ENTRY_LEN` bytes, back to back.
fn entries() -> &'static [u8] {
    static ENTRIES: OnceLock<Vec<u8>> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let mut buf = vec![0u8; config().entries as usize * ENTRY_LEN];
        Lcg(0x6f72_6574_7261_6365).fill(&mut buf);
        buf
    })
}

/// The leaf hash inputs `0x00 || entry`, back to back (101 bytes each).
fn leaf_inputs() -> &'static [u8] {
    static LEAF_INPUTS: OnceLock<Vec<u8>> = OnceLock::new();
    LEAF_INPUTS.get_or_init(|| {
        let mut buf = Vec::with_capacity(config().entries as usize * (ENTRY_LEN + 1));
        for entry in entries().chunks_exact(ENTRY_LEN) {
            buf.push(0);
            buf.extend_from_slice(entry);
        }
        buf
    })
}

/// `NODE_RING` node hash inputs `0x01 || left || right` (65 bytes each).
fn node_ring() -> &'static [[u8; 65]] {
    static RING: OnceLock<Vec<[u8; 65]>> = OnceLock::new();
    RING.get_or_init(|| {
        let mut rng = Lcg(0x6e6f_6465);
        (0..NODE_RING)
            .map(|_| {
                let mut input = [0u8; 65];
                rng.fill(&mut input[1..]);
                input[0] = 1;
                input
            })
            .collect()
    })
}

// ---------------------------------------------------------------------------
// The measured routines.

/// Raw SHA-256 over the same number and sizes of inputs as building a tree of
/// `leaf_inputs.len() / 101` entries: every leaf input, then N-1 node inputs.
fn sha256_raw(leaf_inputs: &[u8], ring: &[[u8; 65]]) -> u8 {
    let mut acc = 0u8;
    let mut n = 0usize;
    for input in leaf_inputs.chunks_exact(ENTRY_LEN + 1) {
        acc ^= Sha256::digest(input)[0];
        n += 1;
    }
    for j in 0..n.saturating_sub(1) {
        acc ^= Sha256::digest(ring[j % NODE_RING])[0];
    }
    acc
}

/// `k` raw SHA-256 digests of 65-byte node inputs, starting at ring slot
/// `start`.
fn sha256_nodes(ring: &[[u8; 65]], start: usize, k: usize) -> u8 {
    let mut acc = 0u8;
    for j in 0..k {
        acc ^= Sha256::digest(ring[(start + j) % NODE_RING])[0];
    }
    acc
}

/// `k` chained SHA-256 digests of 65-byte node inputs: each input carries the
/// previous digest, as verification's `root = node_hash(p, root)` does, so
/// this is the latency floor where [`sha256_nodes`] is the throughput floor.
fn sha256_nodes_chained(ring: &[[u8; 65]], start: usize, k: usize) -> u8 {
    let mut prev = [0u8; 32];
    for j in 0..k {
        let mut input = ring[(start + j) % NODE_RING];
        input[1..33].copy_from_slice(&prev);
        prev = Sha256::digest(input).into();
    }
    prev[0]
}

/// What a tile writer does: hash every entry, append it to the compact range,
/// and collect the completed nodes of the tile levels (0, 8, 16, ...) into
/// one 8192-byte buffer per tile level, handing each full buffer to
/// `on_full_tile(tile_level, tile_index, bytes)`. Returns the root and the
/// number of full tiles.
fn integrate_tiles(entries: &[u8], mut on_full_tile: impl FnMut(u8, u64, &[u8])) -> (Hash, u64) {
    let mut range = CompactRange::new();
    let mut buffers: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut full = 0u64;
    for entry in entries.chunks_exact(ENTRY_LEN) {
        range.append(leaf_hash(entry), |id, hash| {
            if id.level % TILE_HEIGHT != 0 {
                return;
            }
            let tile_level = id.level / TILE_HEIGHT;
            let slot = usize::from(tile_level);
            if buffers.len() <= slot {
                buffers.push((0, Vec::with_capacity(TILE_BYTES)));
            }
            let (index, buf) = &mut buffers[slot];
            buf.extend_from_slice(&hash.0);
            if buf.len() == TILE_BYTES {
                on_full_tile(tile_level, *index, buf);
                full += 1;
                *index += 1;
                buf.clear();
            }
        });
    }
    (range.root(), full)
}

/// `MemoryTree::append` for every entry: stores every level.
fn integrate_memory_tree(entries: &[u8]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for entry in entries.chunks_exact(ENTRY_LEN) {
        tree.append(leaf_hash(entry));
    }
    tree
}

// ---------------------------------------------------------------------------
// Trees and proof fixtures, built lazily (list mode and filtered runs build
// nothing they do not need).

/// The tree of the benchmark entries.
fn small_tree() -> &'static MemoryTree {
    static TREE: OnceLock<MemoryTree> = OnceLock::new();
    TREE.get_or_init(|| integrate_memory_tree(entries()))
}

/// A 2^24-leaf tree (leaves `leaf_hash(i as u64 big-endian)`: cheaper to
/// build than 100-byte entries, and proofs do not care). ~1 GiB.
fn big_tree() -> &'static MemoryTree {
    static TREE: OnceLock<MemoryTree> = OnceLock::new();
    TREE.get_or_init(|| {
        let start = Instant::now();
        let mut tree = MemoryTree::new();
        for i in 0..BIG_TREE {
            tree.append(leaf_hash(&i.to_be_bytes()));
        }
        eprintln!("built the 2^24-leaf MemoryTree in {:.2?}", start.elapsed());
        tree
    })
}

/// Random leaf indices in `[0, size)` and old sizes in `[1, size)`. Pure
/// arithmetic: needs no tree.
fn sample_params(key: SizeKey) -> (Vec<u64>, Vec<u64>) {
    let size = key.size();
    let mut rng = Lcg(0x5eed ^ size);
    let indices = (0..SAMPLES).map(|_| rng.range(0, size)).collect();
    let olds = (0..SAMPLES).map(|_| rng.range(1, size)).collect();
    (indices, olds)
}

/// Node hashes `verify_inclusion` computes: one per proof hash.
fn inclusion_hash_count(index: u64, size: u64) -> usize {
    inclusion_ranges(index, size).map(|r| r.len()).unwrap_or(0)
}

/// Node hashes `verify_consistency` computes, mirroring its loop: a proof
/// hash on the old tree's right edge feeds both roots (2 hashes), any other
/// only the new root (1 hash).
fn consistency_hash_count(size1: u64, size2: u64) -> usize {
    if size1 == 0 || size1 >= size2 {
        return 0;
    }
    let proof_len = consistency_ranges(size1, size2)
        .map(|r| r.len())
        .unwrap_or(0);
    let path_len = proof_len + usize::from(size1.is_power_of_two());
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut count = 0;
    for _ in 1..path_len {
        if fnode & 1 == 1 || fnode == snode {
            count += 2;
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            count += 1;
        }
        fnode >>= 1;
        snode >>= 1;
    }
    count
}

/// Mean node hashes per inclusion and per consistency verification.
fn mean_hash_counts(key: SizeKey) -> (f64, f64) {
    let (indices, olds) = sample_params(key);
    let size = key.size();
    let incl = indices
        .iter()
        .map(|&i| inclusion_hash_count(i, size))
        .sum::<usize>();
    let cons = olds
        .iter()
        .map(|&o| consistency_hash_count(o, size))
        .sum::<usize>();
    (incl as f64 / SAMPLES as f64, cons as f64 / SAMPLES as f64)
}

#[derive(Debug)]
struct InclusionCase {
    index: u64,
    leaf: Hash,
    proof: Vec<Hash>,
}

#[derive(Debug)]
struct ConsistencyCase {
    old: u64,
    old_root: Hash,
    proof: Vec<Hash>,
}

/// A size's tree, sample indices, and precomputed (checked) proofs.
#[derive(Debug)]
struct Fixture {
    size: u64,
    tree: &'static MemoryTree,
    root: Hash,
    indices: Vec<u64>,
    olds: Vec<u64>,
    inclusion: Vec<InclusionCase>,
    consistency: Vec<ConsistencyCase>,
}

fn fixture(key: SizeKey) -> &'static Fixture {
    static SMALL: OnceLock<Fixture> = OnceLock::new();
    static BIG_POW2: OnceLock<Fixture> = OnceLock::new();
    static BIG_NPOT: OnceLock<Fixture> = OnceLock::new();
    let cell = match key {
        SizeKey::Small => &SMALL,
        SizeKey::BigPow2 => &BIG_POW2,
        SizeKey::BigNpot => &BIG_NPOT,
    };
    cell.get_or_init(|| build_fixture(key))
}

fn build_fixture(key: SizeKey) -> Fixture {
    let size = key.size();
    let tree = match key {
        SizeKey::Small => small_tree(),
        SizeKey::BigPow2 | SizeKey::BigNpot => big_tree(),
    };
    let root = tree_hash(size, tree).expect("root of a stored tree");
    if size == tree.size() {
        assert_eq!(
            root,
            tree.root(),
            "tree_hash disagrees with the compact range"
        );
    }
    let (indices, olds) = sample_params(key);
    let inclusion: Vec<InclusionCase> = indices
        .iter()
        .map(|&index| {
            let leaf = tree
                .read_hashes(&[NodeId::new(0, index)])
                .expect("stored leaf")[0];
            let proof = prove_inclusion(index, size, tree).expect("inclusion proof");
            verify_inclusion(index, size, &leaf, &proof, &root).expect("inclusion proof verifies");
            assert_eq!(proof.len(), inclusion_hash_count(index, size));
            InclusionCase { index, leaf, proof }
        })
        .collect();
    let consistency: Vec<ConsistencyCase> = olds
        .iter()
        .map(|&old| {
            let old_root = tree_hash(old, tree).expect("old root");
            let proof = prove_consistency(old, size, tree).expect("consistency proof");
            verify_consistency(old, size, &proof, &old_root, &root)
                .expect("consistency proof verifies");
            ConsistencyCase {
                old,
                old_root,
                proof,
            }
        })
        .collect();
    Fixture {
        size,
        tree,
        root,
        indices,
        olds,
        inclusion,
        consistency,
    }
}

/// Checks once that the tile writer's buffers hold the tree's tile-level
/// hashes and that its root is the tree's.
fn check_integrate_tiles() {
    let tree = small_tree();
    let (root, full) = integrate_tiles(entries(), |tile_level, index, bytes| {
        let level = tile_level * TILE_HEIGHT;
        let ids: Vec<NodeId> = (0..TILE_WIDTH)
            .map(|i| NodeId::new(level, index * TILE_WIDTH + i))
            .collect();
        let want: Vec<u8> = tree
            .read_hashes(&ids)
            .expect("tile hashes")
            .iter()
            .flat_map(|h| h.0)
            .collect();
        assert_eq!(bytes, &want[..], "tile level {tile_level} index {index}");
    });
    assert_eq!(root, tree.root(), "tile writer root");
    let n = tree.size();
    let expected_full = (n >> 8) / TILE_WIDTH + (n >> 16) / TILE_WIDTH + n / TILE_WIDTH;
    assert_eq!(full, expected_full, "full tiles");
}

// ---------------------------------------------------------------------------
// Criterion groups.

fn configure(group: &mut BenchmarkGroup<'_, WallTime>, samples: usize, warm_up: f64, measure: f64) {
    group.sample_size(samples);
    group.warm_up_time(Duration::from_secs_f64(warm_up));
    group.measurement_time(Duration::from_secs_f64(measure));
}

fn bench_integrate(c: &mut Criterion) {
    let cfg = config();
    let n = cfg.entries;

    // Tree building takes 0.1-1 s per iteration: flat sampling, 10 samples.
    let mut group = c.benchmark_group("bound");
    configure(&mut group, 10, 1.0, 4.0);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n));
    group.bench_function("sha256_raw", |b| {
        let (inputs, ring) = (leaf_inputs(), node_ring());
        b.iter(|| sha256_raw(black_box(inputs), ring));
    });
    group.finish();

    let mut group = c.benchmark_group("integrate");
    configure(&mut group, 10, 1.0, 7.0);
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(n));
    group.bench_function(cfg.entries_label, |b| {
        let entries = entries();
        b.iter(|| {
            integrate_tiles(black_box(entries), |_, _, tile| {
                black_box(tile);
            })
        });
    });
    group.bench_function(format!("{}_memory_tree", cfg.entries_label), |b| {
        let entries = entries();
        b.iter(|| integrate_memory_tree(black_box(entries)));
    });
    group.finish();
}

fn bench_prove(c: &mut Criterion) {
    let mut group = c.benchmark_group("prove");
    configure(&mut group, 30, 0.5, 2.5);
    group.throughput(Throughput::Elements(1));
    for key in SizeKey::all() {
        group.bench_function(format!("inclusion/{}", key.label()), |b| {
            let f = fixture(key);
            let mut at = 0usize;
            b.iter(|| {
                let index = f.indices[at % SAMPLES];
                at += 1;
                prove_inclusion(black_box(index), f.size, f.tree).expect("inclusion proof")
            });
        });
        group.bench_function(format!("consistency/{}", key.label()), |b| {
            let f = fixture(key);
            let mut at = 0usize;
            b.iter(|| {
                let old = f.olds[at % SAMPLES];
                at += 1;
                prove_consistency(black_box(old), f.size, f.tree).expect("consistency proof")
            });
        });
    }
    group.finish();
}

/// The distinct (rounded) node-hash counts of the verification benchmarks.
fn node_bound_ks() -> Vec<usize> {
    let mut ks: Vec<usize> = SizeKey::all()
        .into_iter()
        .flat_map(|key| {
            let (incl, cons) = mean_hash_counts(key);
            [incl.round() as usize, cons.round() as usize]
        })
        .collect();
    ks.sort_unstable();
    ks.dedup();
    ks
}

fn bench_verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("bound");
    configure(&mut group, 30, 0.5, 2.0);
    for k in node_bound_ks() {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("sha256_node_x{k}"), |b| {
            let ring = node_ring();
            let mut at = 0usize;
            b.iter(|| {
                at = (at + k) % NODE_RING;
                sha256_nodes(black_box(ring), at, k)
            });
        });
        group.bench_function(format!("sha256_node_chain_x{k}"), |b| {
            let ring = node_ring();
            let mut at = 0usize;
            b.iter(|| {
                at = (at + k) % NODE_RING;
                sha256_nodes_chained(black_box(ring), at, k)
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("verify");
    configure(&mut group, 30, 0.5, 2.5);
    group.throughput(Throughput::Elements(1));
    for key in SizeKey::all() {
        group.bench_function(format!("inclusion/{}", key.label()), |b| {
            let f = fixture(key);
            let mut at = 0usize;
            b.iter(|| {
                let case = &f.inclusion[at % SAMPLES];
                at += 1;
                verify_inclusion(
                    case.index,
                    f.size,
                    &case.leaf,
                    black_box(&case.proof),
                    &f.root,
                )
                .expect("inclusion proof verifies")
            });
        });
        group.bench_function(format!("consistency/{}", key.label()), |b| {
            let f = fixture(key);
            let mut at = 0usize;
            b.iter(|| {
                let case = &f.consistency[at % SAMPLES];
                at += 1;
                verify_consistency(
                    case.old,
                    f.size,
                    black_box(&case.proof),
                    &case.old_root,
                    &f.root,
                )
                .expect("consistency proof verifies")
            });
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// Ratio summary: own interleaved measurement, median of `reps`.

use oretrace_benchkit::{interleaved, time};

fn summary() {
    let cfg = config();
    let reps_big = if cfg.quick { 1 } else { 5 };
    let reps_small = if cfg.quick { 1 } else { 9 };
    let (inputs, ring, entries) = (leaf_inputs(), node_ring(), entries());
    let n = cfg.entries as f64;
    let label = cfg.entries_label;

    println!();
    println!(
        "== oretrace-tlog Merkle summary (median of {reps_big}/{reps_small} interleaved runs; ratio = bound time / time, 1.00 = at the raw SHA-256 bound) =="
    );

    let [t_bound, t_tiles, t_mem] = interleaved(
        reps_big,
        [
            &|| time(|| sha256_raw(black_box(inputs), ring)),
            &|| {
                time(|| {
                    integrate_tiles(black_box(entries), |_, _, t| {
                        black_box(t);
                    })
                })
            },
            &|| time(|| integrate_memory_tree(black_box(entries))),
        ],
    );
    let melem = |t: f64| n / t / 1e6;
    println!(
        "{:<34} {:>10} {:>14} {:>8}",
        "benchmark", "Melem/s", "time", "ratio"
    );
    println!(
        "{:<34} {:>10.3} {:>11.1} ms {:>8}",
        format!("bound/sha256_raw ({label})"),
        melem(t_bound),
        t_bound * 1e3,
        "1.00"
    );
    println!(
        "{:<34} {:>10.3} {:>11.1} ms {:>8.2}",
        format!("integrate/{label} (tile levels)"),
        melem(t_tiles),
        t_tiles * 1e3,
        t_bound / t_tiles
    );
    println!(
        "{:<34} {:>10.3} {:>11.1} ms {:>8.2}",
        format!("integrate/{label}_memory_tree"),
        melem(t_mem),
        t_mem * 1e3,
        t_bound / t_mem
    );

    // Per-node-digest bounds: batches of SAMPLES * 24 digests, independent
    // (throughput) and chained (latency).
    let node_batch = SAMPLES * 24;
    let per_node_ns = |t: f64| t / node_batch as f64 * 1e9;

    println!();
    println!(
        "{:<30} {:>7} {:>10} {:>11} {:>11} {:>9}",
        "benchmark", "hashes", "ns/proof", "ratio(ind)", "ratio(chn)", "=digests"
    );
    for key in SizeKey::all() {
        let f = fixture(key);
        let (k_incl, k_cons) = mean_hash_counts(key);
        let per_proof_ns = |t: f64| t / SAMPLES as f64 * 1e9;
        let [t_node, t_chain, t_pi, t_pc, t_vi, t_vc] = interleaved(
            reps_small,
            [
                &|| time(|| sha256_nodes(black_box(ring), 0, node_batch)),
                &|| time(|| sha256_nodes_chained(black_box(ring), 0, node_batch)),
                &|| {
                    time(|| {
                        for &i in &f.indices {
                            black_box(
                                prove_inclusion(black_box(i), f.size, f.tree)
                                    .expect("inclusion proof"),
                            );
                        }
                    })
                },
                &|| {
                    time(|| {
                        for &o in &f.olds {
                            black_box(
                                prove_consistency(black_box(o), f.size, f.tree)
                                    .expect("consistency proof"),
                            );
                        }
                    })
                },
                &|| {
                    time(|| {
                        for c in &f.inclusion {
                            verify_inclusion(
                                c.index,
                                f.size,
                                &c.leaf,
                                black_box(&c.proof),
                                &f.root,
                            )
                            .expect("verifies");
                        }
                    })
                },
                &|| {
                    time(|| {
                        for c in &f.consistency {
                            verify_consistency(
                                c.old,
                                f.size,
                                black_box(&c.proof),
                                &c.old_root,
                                &f.root,
                            )
                            .expect("verifies");
                        }
                    })
                },
            ],
        );
        let (node_ns, chain_ns) = (per_node_ns(t_node), per_node_ns(t_chain));
        let l = key.label();
        let prove_row = |name: &str, t: f64| {
            let ns = per_proof_ns(t);
            println!(
                "{:<30} {:>7} {:>10.0} {:>11} {:>11} {:>9.1}",
                format!("{name}/{l}"),
                "-",
                ns,
                "-",
                "-",
                ns / node_ns
            );
        };
        let verify_row = |name: &str, k: f64, t: f64| {
            let ns = per_proof_ns(t);
            println!(
                "{:<30} {:>7.1} {:>10.0} {:>11.2} {:>11.2} {:>9.1}",
                format!("{name}/{l}"),
                k,
                ns,
                k * node_ns / ns,
                k * chain_ns / ns,
                ns / node_ns
            );
        };
        println!(
            "{:<30} {:>7} {:>10.1} {:>11} {:>11.2} {:>9}",
            format!("bound/sha256_node [{l}]"),
            1,
            node_ns,
            "1.00",
            node_ns / chain_ns,
            "1.0"
        );
        prove_row("prove/inclusion", t_pi);
        prove_row("prove/consistency", t_pc);
        verify_row("verify/inclusion", k_incl, t_vi);
        verify_row("verify/consistency", k_cons, t_vc);
    }
    println!(
        "hashes: mean node hashes per verification; ratio(ind|chn) = hashes x (independent|chained) 65-byte"
    );
    println!(
        "digest time / time per proof; =digests: time per proof in independent 65-byte digests."
    );
    println!("Target: prove < 20 µs per proof at 16M.");
}

fn main() {
    let cfg = *config();
    if cfg.quick && !cfg.list {
        eprintln!("quick mode: {} entries, 16M trees skipped", cfg.entries);
    }
    let mut c = Criterion::default().configure_from_args();
    if !cfg.list {
        // Fail fast (before any timing) if the tile writer is wrong.
        check_integrate_tiles();
    }
    let start = Instant::now();
    bench_integrate(&mut c);
    bench_prove(&mut c);
    bench_verify(&mut c);
    c.final_summary();
    let criterion_time = start.elapsed();
    let summary_on = std::env::var("ORETRACE_BENCH_SUMMARY").map_or(true, |v| v != "0");
    if !cfg.list && summary_on {
        let start = Instant::now();
        summary();
        eprintln!(
            "criterion groups took {criterion_time:.1?}, summary {:.1?}",
            start.elapsed()
        );
    }
}
