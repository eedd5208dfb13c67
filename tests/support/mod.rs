//! The demo incident's identifiers (see demo-data/README.md), shared by the test files.
#![allow(dead_code)]

pub const USER: &str = "mallory";
pub const CONTAINER_SHORT: &str = "5f2c1a9b3d4e";
pub const CONTAINER_FULL: &str = "5f2c1a9b3d4e64c7f708fdf0010fd26b7643fa86509adc32fb9a6f3c325bc1cf";
pub const DIGEST: &str = "sha256:a9891bc31f10030e4f29eeb6dbd4ac4f3697adaf44e05fefb4d29eacb2b0b22c";
pub const COMMIT_TAG: &str = "9f1c2ab";
pub const COMMIT_FULL: &str = "9f1c2ab4e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3";
pub const POD: &str = "api-7d9f-x2k4q";
pub const HEALTHY_POD: &str = "api-7d9f-h5n2c";
pub const ATTACKER_IP: &str = "203.0.113.45";
pub const C2_IP: &str = "185.220.101.4";
pub mod http_server;
pub mod tls_server;

/// An `XDG_CONFIG_HOME` of its own for one test: `casefile/FILE` holds `text`, or is absent.
pub fn config_home(name: &str, file: &str, text: Option<&str>) -> std::path::PathBuf {
    let home = std::env::temp_dir().join(format!("casefile-{name}-{}", std::process::id()));
    let dir = home.join("casefile");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    match text {
        Some(text) => std::fs::write(&path, text).unwrap(),
        None => {
            let _ = std::fs::remove_file(&path);
        }
    }
    home
}
