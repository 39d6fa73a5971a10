//! Every committed seed and every regression (an input a fuzzer once crashed on) passes its target's
//! checks (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`).

use std::path::PathBuf;

use assent_fuzz::{run, TARGETS};

fn inputs(dir: &str, target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz").join(dir).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_seed_and_regression_passes_its_targets_checks() {
    for target in TARGETS {
        let seeds = inputs("corpus", target);
        assert!(seeds.len() >= 3, "fuzz/corpus/{target}/ holds the target's seeds");
        for file in seeds.iter().chain(&inputs("regressions", target)) {
            let data = std::fs::read(file).unwrap();
            if let Err(e) = std::panic::catch_unwind(|| run(target, &data)) {
                panic!("{target} fails on {}: {e:?}", file.display());
            }
        }
    }
}

#[test]
fn the_intake_seeds_reach_the_store() {
    // Signed by the target, and signed as sent: each is stored (201), or found stored (200).
    for name in ["claims-0", "jws-1"] {
        let data = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/intake").join(name))
            .unwrap();
        let (status, answer) = assent_fuzz::intake::post(&data).unwrap();
        assert!(status == 201 || status == 200, "{name}: {status} {answer}");
        assert!(answer.contains("\"ack\""), "{name}: {answer}");
    }
}
